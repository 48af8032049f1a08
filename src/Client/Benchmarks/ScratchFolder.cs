namespace AgentTheater.Client.Benchmarks;

/// <summary>
/// A benchmark's working storage (the embedded silo's state, transcripts): a temporary folder, removed when disposed,
/// or left behind when a file in it is still open (the database's pooled connection).
/// </summary>
internal sealed class ScratchFolder : IDisposable
{
    /// <summary>The folder.</summary>
    public string Path { get; } = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"agent-theater-bench-{Guid.NewGuid():N}")).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Left behind: a temporary folder.
        }
    }
}
