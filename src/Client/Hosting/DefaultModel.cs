using AgentTheater.Client.Progress;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Client.Hosting;

/// <summary>Which model a command plays with when none is named, and the synthetic models cached for benchmarks.</summary>
internal static class DefaultModel
{
    /// <summary>The project's own model, shipped under <c>models/</c> next to the program or in the working folder.</summary>
    public const string FileName = "agent-theater-small.gguf";

    /// <summary>
    /// The named model (relative names resolve against <paramref name="relativeTo"/>, then the working folder); else
    /// the project's model; else a synthetic tiny model, with a warning that its lines are noise.
    /// </summary>
    public static string Resolve(string? named, string relativeTo)
    {
        if (named is not null)
        {
            var candidates = Path.IsPathRooted(named) ? [named] : new[] { Path.Combine(relativeTo, named), Path.GetFullPath(named) };
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
        return Synthetic("tiny", "q8_0");
    }

    /// <summary>
    /// Checks the model a silo is about to start on (<see cref="ModelFile.Check"/>, with llama.cpp loaded from the folder
    /// the embedded silo would load it from), before anything is written: a bad file is one error line naming it.
    /// </summary>
    /// <returns><paramref name="path"/>.</returns>
    /// <exception cref="ModelFileException">The file cannot be played.</exception>
    public static string Check(string path)
    {
        ModelFile.Check(path, EmbeddedTheater.NativeDirectory());
        return path;
    }

    /// <summary>The synthetic model cached for <paramref name="shape"/>/<paramref name="type"/>, written on first use.</summary>
    public static string Synthetic(string shape, string type, int seed = 1234)
    {
        var parsedShape = SyntheticModelShape.Parse(shape);
        var parsedType = GgmlTypeInfo.Parse(type);
        var folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "agent-theater", "models");
        var path = Path.Combine(folder, $"synthetic-{parsedShape.Name}-{type.ToLowerInvariant()}-{seed}.gguf");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"Writing synthetic {parsedShape.Name} ({type}) model to {path}");
            ConsoleProgress.Show(progress => SyntheticModel.Write(path, parsedShape, parsedType, seed, new PercentProgress(progress, "written")));
        }

        return path;
    }
}
