namespace AgentTheater.Testing;

/// <summary>Files the tests read from the checkout (the shipped model, the labelled set, the silo's configuration).</summary>
internal static class RepositoryFiles
{
    /// <summary>The folder holding AgentTheater.sln, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The project's shipped model.</summary>
    public static string ProjectModel => Path("models", "agent-theater-small.gguf");

    /// <summary>The labelled takeover set (tools/model/labelled_takeovers.py writes it).</summary>
    public static string LabelledTakeovers => Path("tests", "labelled", "takeovers.jsonl");

    /// <summary>A path under the repository root.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "AgentTheater.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No AgentTheater.sln above {AppContext.BaseDirectory}.");
    }
}
