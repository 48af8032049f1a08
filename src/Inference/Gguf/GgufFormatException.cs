using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Gguf;

/// <summary>A file is not a valid GGUF model; the message names the file and what is wrong.</summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>: a corrupt file.</summary>
    public GgufFormatException(string path, string problem, Exception? inner = null)
        : this(path, ModelFileProblem.Corrupt, problem, inner)
    {
    }

    /// <summary>Creates the exception for <paramref name="path"/> with what kind of problem it is.</summary>
    public GgufFormatException(string path, ModelFileProblem kind, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Kind = kind;
        Problem = problem;
    }

    /// <summary>The file that failed to parse.</summary>
    public string FilePath { get; }

    /// <summary>What kind of problem it is (not GGUF, an unsupported version, truncated, corrupt).</summary>
    public ModelFileProblem Kind { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
