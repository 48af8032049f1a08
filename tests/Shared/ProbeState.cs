namespace AgentTheater.Testing;

/// <summary>State the storage tests write: a running total and the entries that made it.</summary>
[GenerateSerializer]
public sealed class ProbeState
{
    [Id(0)]
    public int Total { get; set; }

    [Id(1)]
    public List<string> Entries { get; set; } = [];
}
