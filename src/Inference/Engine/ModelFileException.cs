namespace AgentTheater.Inference.Engine;

/// <summary>What is wrong with a model file, in the order <see cref="ModelFile.Check"/> looks for it.</summary>
public enum ModelFileProblem
{
    /// <summary>There is no file at the path.</summary>
    NotFound,

    /// <summary>The path is a folder, or the file cannot be opened or read.</summary>
    Unreadable,

    /// <summary>The file does not start with the GGUF magic.</summary>
    NotGguf,

    /// <summary>A GGUF version llama.cpp b7347 does not read (it reads 2 and 3).</summary>
    UnsupportedVersion,

    /// <summary>The file ends before its header, or before a tensor's data.</summary>
    Truncated,

    /// <summary>The header parses to something no GGUF writer produces: absurd counts, sizes, types or offsets.</summary>
    Corrupt,

    /// <summary><c>general.architecture</c> is missing, or names a model llama.cpp b7347 cannot play.</summary>
    UnsupportedArchitecture,

    /// <summary>Every check of ours passed and llama.cpp still refused the file (its reason is in the message).</summary>
    RefusedByLlama,
}

/// <summary>
/// A model file cannot be used. The message is one line: the file, then what is wrong with it.
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public ModelFileException(string path, ModelFileProblem kind, string problem, Exception? inner = null)
        : base($"{path}: {OneLine(problem)}", inner)
    {
        FilePath = path;
        Kind = kind;
        Problem = OneLine(problem);
    }

    /// <summary>The model file.</summary>
    public string FilePath { get; }

    /// <summary>Which check failed.</summary>
    public ModelFileProblem Kind { get; }

    /// <summary>What is wrong with the file, on one line.</summary>
    public string Problem { get; }

    // llama.cpp's reasons come as several log lines; an operator's error is one.
    private static string OneLine(string text) =>
        string.Join("; ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
