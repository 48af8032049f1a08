using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// The layout of llama.h's structs as the C compiler sees it: fetches the llama.cpp sources that match the
/// pinned libraries with tools/fetch-native.sh --headers, compiles Native/struct-layout.c against them with gcc
/// and reads what it prints. Throws (so every test that uses it fails) when gcc, npm or the headers are missing.
/// </summary>
public sealed class NativeHeaderLayout : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"agent-theater-layout-{Guid.NewGuid():N}");

    /// <summary>The llama.cpp source folder the headers were read from.</summary>
    public string SourceDirectory { get; private set; } = "";

    /// <summary>Every struct struct-layout.c printed, by its C name.</summary>
    public IReadOnlyDictionary<string, CStructLayout> Structs { get; private set; } = new Dictionary<string, CStructLayout>();

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        SourceDirectory = await FetchHeadersAsync(cancellationToken);
        Directory.CreateDirectory(_work);
        var program = Path.Combine(_work, "struct-layout");
        var source = Path.Combine(AppContext.BaseDirectory, "Native", "struct-layout.c");
        var compile = await RunAsync(
            "gcc",
            [
                "-std=c11", "-Wall", "-Wextra", "-Werror", "-Werror=missing-field-initializers",
                "-I", Path.Combine(SourceDirectory, "include"),
                "-I", Path.Combine(SourceDirectory, "ggml", "include"),
                source, "-o", program,
            ],
            "gcc is needed to compile llama.h's structs for the native layout test (apt-get install gcc)",
            cancellationToken);
        if (compile.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"gcc could not compile {source} against {SourceDirectory} (exit {compile.ExitCode}); a struct in llama.h "
                + $"may have gained or lost a field:\n{compile.Error}{compile.Output}");
        }

        var run = await RunAsync(program, [], "", cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed (exit {run.ExitCode}):\n{run.Error}");
        }

        Structs = Parse(run.Output);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is cleaned by the system anyway.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs tools/fetch-native.sh --headers, which prints the source folder as the last line of stderr.</summary>
    private static async Task<string> FetchHeadersAsync(CancellationToken cancellationToken)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "tools", "fetch-native.sh");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} is missing; the Inference project copies tools/fetch-native.sh next to the binaries");
        }

        var fetch = await RunAsync("bash", [script, "--headers"], "bash is needed to run tools/fetch-native.sh", cancellationToken);
        var source = fetch.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (fetch.ExitCode != 0 || source is null || !File.Exists(Path.Combine(source, "include", "llama.h")))
        {
            throw new InvalidOperationException(
                $"tools/fetch-native.sh --headers did not give a llama.cpp source folder with include/llama.h (exit {fetch.ExitCode}):\n{fetch.Error}");
        }

        return source;
    }

    /// <summary>Reads "struct sizeof n", "struct alignof n" and "struct field offset size" lines.</summary>
    private static Dictionary<string, CStructLayout> Parse(string output)
    {
        var structs = new Dictionary<string, CStructLayout>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            var numbers = parts.Skip(2).Select(part => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : -1).ToArray();
            var isField = parts[1] is not ("sizeof" or "alignof");
            if (numbers.Length != (isField ? 2 : 1) || numbers.Contains(-1))
            {
                throw new InvalidOperationException($"struct-layout.c printed an unexpected line: '{line}'");
            }

            if (!structs.TryGetValue(parts[0], out var layout))
            {
                structs[parts[0]] = layout = new CStructLayout(parts[0]);
            }

            switch (parts[1])
            {
                case "sizeof":
                    layout.Size = numbers[0];
                    break;
                case "alignof":
                    layout.Alignment = numbers[0];
                    break;
                default:
                    if (!layout.Fields.TryAdd(parts[1], new CFieldLayout(numbers[0], numbers[1])))
                    {
                        throw new InvalidOperationException($"struct-layout.c printed {parts[0]}.{parts[1]} twice");
                    }

                    break;
            }
        }

        return structs;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string program, IEnumerable<string> arguments, string missingHint, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"{program} could not be started ({e.Message}). {missingHint}", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await output, await error);
        }
    }
}

/// <summary>One struct as struct-layout.c printed it.</summary>
public sealed class CStructLayout(string name)
{
    public string Name { get; } = name;

    public int Size { get; set; } = -1;

    public int Alignment { get; set; } = -1;

    /// <summary>Offset and size of every field, by its C name.</summary>
    public Dictionary<string, CFieldLayout> Fields { get; } = [];
}

/// <summary>One field as struct-layout.c printed it.</summary>
public readonly record struct CFieldLayout(int Offset, int Size);
