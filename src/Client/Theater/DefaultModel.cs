using AgentTheater.Client.Commands;

namespace AgentTheater.Client.Theater;

/// <summary>Which model a run plays with when none is named.</summary>
internal static class DefaultModel
{
    /// <summary>The project's own model, shipped under <c>models/</c> next to the program or in the working folder.</summary>
    public const string FileName = "agent-theater-small.gguf";

    /// <summary>
    /// The named model (relative names resolve against the scenario's folder, then the working folder); else the
    /// project's model; else a synthetic tiny model, with a warning that its lines are noise.
    /// </summary>
    public static string Resolve(string? named, string scenarioFolder)
    {
        if (named is not null)
        {
            var candidates = Path.IsPathRooted(named) ? [named] : new[] { Path.Combine(scenarioFolder, named), Path.GetFullPath(named) };
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"Model file not found: {named} (looked in {string.Join(", ", candidates)}).", named);
        }

        foreach (var folder in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var shipped = Path.Combine(folder, "models", FileName);
            if (File.Exists(shipped))
            {
                return shipped;
            }
        }

        Console.Error.WriteLine($"warning: models/{FileName} not found; playing with a synthetic model of random weights (its lines are noise).");
        return ModelCommand.EnsureSynthetic("tiny", "q8_0");
    }
}
