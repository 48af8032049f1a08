using AgentTheater.Grains.Scenarios;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Client.Commands;

/// <summary>Turns the errors a user can cause into one clear line on stderr and a non-zero exit code.</summary>
internal static class CommandErrors
{
    public const int UsageError = 2;
    public const int InputError = 3;

    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or GgufFormatException or ModelFileException)
        {
            Console.Error.WriteLine($"agent-theater: error: {e.Message}");
            return InputError;
        }
        catch (ScenarioValidationException e)
        {
            Console.Error.WriteLine($"agent-theater: error: {e.Message}");
            return InputError;
        }
        catch (Exception e) when (e is ArgumentException or PromptTooLongException or InferencePoolBusyException or FormatException)
        {
            Console.Error.WriteLine($"agent-theater: error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            Console.Error.WriteLine($"agent-theater: error: the cluster did not answer: {e.Message}");
            return InputError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("agent-theater: cancelled");
            return 130;
        }
    }

    /// <summary>The value of a whole-number option, or an error naming the option, the value and the range.</summary>
    public static int InRange(string option, int value, int min, int max) =>
        value >= min && value <= max ? value : throw new ArgumentException($"{option}: {value} is out of range ({min} to {max}).", option);

    /// <summary>
    /// An output path, checked before long work starts: its folder must exist, or the work would be lost at the end;
    /// the error names the option. Null stays null.
    /// </summary>
    public static string? WritablePath(string option, string? path)
    {
        if (path is null)
        {
            return null;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return Directory.Exists(folder) ? path : throw new ArgumentException($"{option}: the folder of '{path}' does not exist.", option);
    }

    /// <summary>Parses "1,8,32" into integers; the error names the option and the bad value.</summary>
    public static int[] ParseIntegerList(string option, string text)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                throw new ArgumentException($"{option}: '{part}' is not a positive whole number (in '{text}').", option);
            }

            values.Add(value);
        }

        return values.Count > 0 ? [.. values] : throw new ArgumentException($"{option}: no values in '{text}'.", option);
    }
}
