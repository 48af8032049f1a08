using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Web.Runs;
using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Client.Benchmarks;

/// <summary>A character of a benchmarked scene.</summary>
/// <param name="Id">Character id (the key of <see cref="SceneWindow.LinesBySpeaker"/>).</param>
/// <param name="Name">Name on stage.</param>
/// <param name="Role">Role.</param>
internal sealed record BenchCastMember(string Id, string Name, string Role);

/// <summary>What <c>bench scene --json</c> writes: whether the scene completed, and every window so far.</summary>
/// <param name="Completed">True when every turn was played; false when the scene failed.</param>
/// <param name="Error">Why it failed (the scene's error); null when it completed.</param>
/// <param name="EndReason">The scene's end reason as it recorded it.</param>
/// <param name="Turns">Character turns played.</param>
/// <param name="RequestedTurns">Character turns asked for (<c>--turns</c>).</param>
/// <param name="Window">Turns per window.</param>
/// <param name="Policy">Turn policy.</param>
/// <param name="Model">Model file.</param>
/// <param name="Cast">The characters present, in order.</param>
/// <param name="WallSeconds">From starting the scene to its end.</param>
/// <param name="Total">The whole scene as one window; null when no character spoke.</param>
/// <param name="Windows">Windows of <paramref name="Window"/> turns, in order.</param>
internal sealed record SceneBenchReport(
    bool Completed,
    string? Error,
    string? EndReason,
    int Turns,
    int RequestedTurns,
    int Window,
    TurnPolicy Policy,
    string Model,
    IReadOnlyList<BenchCastMember> Cast,
    double WallSeconds,
    SceneWindow? Total,
    IReadOnlyList<SceneWindow> Windows)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        WriteIndented = true,
    };

    /// <summary>The report as indented JSON (camelCase; <c>linesBySpeaker</c> keyed by character id).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="file"/> atomically (a temporary file, then a rename).</summary>
    public void WriteJson(string file) => RunFolder.WriteAtomically(file, ToJson());
}
