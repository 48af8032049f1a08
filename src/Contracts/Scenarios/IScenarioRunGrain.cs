using AgentTheater.Contracts.Scenes;
using Orleans.Concurrency;

namespace AgentTheater.Contracts.Scenarios;

/// <summary>One run of a scenario: starts every scene replica across the cluster and tracks them. Key: the run id.</summary>
public interface IScenarioRunGrain : IGrainWithStringKey
{
    /// <summary>Starts every scene replica (idempotent).</summary>
    Task Start(ScenarioDefinition scenario);

    /// <summary>A scene reports a line as it is spoken, for live progress (not persisted: the transcripts are the record).</summary>
    [OneWay]
    Task LinePlayed(int tokens);

    /// <summary>A scene reports that it ended.</summary>
    Task SceneEnded(SceneStatus status);

    /// <summary>Progress so far; also restarts scenes that stopped reporting (e.g. after a silo failure).</summary>
    Task<RunProgress> GetProgress();

    /// <summary>
    /// The run's progress now and whenever it changes (a scene spoke a line or ended), at most a few times a second,
    /// until every scene has ended: what a display shows live, pushed rather than polled.
    /// </summary>
    [AlwaysInterleave]
    IAsyncEnumerable<RunProgress> WatchProgress(CancellationToken cancellationToken = default);

    /// <summary>Keys of every scene replica, in scenario order.</summary>
    Task<IReadOnlyList<string>> GetSceneKeys();
}

/// <summary>A run's progress.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenes">Scene replicas in all.</param>
/// <param name="Completed">Scenes that ended normally.</param>
/// <param name="Failed">Scenes that ended with an error.</param>
/// <param name="Lines">Lines spoken in ended scenes.</param>
/// <param name="Tokens">Tokens generated in ended scenes.</param>
/// <param name="StartedAt">When the run started.</param>
/// <param name="LiveLines">Character lines spoken so far in every scene, ended or not (since this activation).</param>
/// <param name="LiveTokens">Tokens generated so far in every scene (since this activation).</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.RunProgress")]
public sealed record RunProgress(
    [property: Id(0)] string RunId,
    [property: Id(1)] int Scenes,
    [property: Id(2)] int Completed,
    [property: Id(3)] int Failed,
    [property: Id(4)] int Lines,
    [property: Id(5)] int Tokens,
    [property: Id(6)] DateTimeOffset StartedAt,
    [property: Id(7)] long LiveLines = 0,
    [property: Id(8)] long LiveTokens = 0)
{
    /// <summary>True when every scene has ended.</summary>
    public bool Done => Completed + Failed >= Scenes;
}
