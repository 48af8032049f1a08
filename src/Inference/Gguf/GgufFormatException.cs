namespace AgentTheater.Inference.Gguf;

/// <summary>A file is not a valid GGUF model; the message names the file and what is wrong.</summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public GgufFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file that failed to parse.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
