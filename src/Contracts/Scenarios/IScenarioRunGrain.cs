using AgentTheater.Contracts.Scenes;
using Orleans.Concurrency;

namespace AgentTheater.Contracts.Scenarios;

/// <summary>One run of a scenario: starts every scene replica across the cluster and tracks them. Key: the run id.</summary>
public interface IScenarioRunGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the run (idempotent): every scene replica that comes after no other scene now, each other one in its
    /// replica once every scene it comes after (<see cref="SceneDefinition.After"/>) has ended, completed or failed.
    /// </summary>
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

    /// <summary>Every scene replica started so far, in the order they started, with when they started and ended.</summary>
    Task<IReadOnlyList<ScenePlay>> GetPlayOrder();

    /// <summary>The scenario the run plays; null before it started.</summary>
    Task<ScenarioDefinition?> GetScenario();

    /// <summary>Pauses every scene still playing (after the turn each is playing).</summary>
    Task PausePlay();

    /// <summary>Resumes every paused scene.</summary>
    Task ResumePlay();

    /// <summary>
    /// Ends every scene still playing, as completed with the reason "stopped"; a scene not started yet ends as completed
    /// with the reason "stopped before it started".
    /// </summary>
    Task StopPlay();
}

/// <summary>Every run started on the cluster, newest last. Key: 0 (one catalogue per cluster).</summary>
public interface IRunCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Records a run (idempotent).</summary>
    Task Add(RunEntry run);

    /// <summary>Every run recorded, in the order they started.</summary>
    Task<IReadOnlyList<RunEntry>> List();
}

/// <summary>A scene replica the run started.</summary>
/// <param name="SceneKey">Scene replica key (<c>{run}/{scene}/{replica}</c>).</param>
/// <param name="SceneId">Scene id.</param>
/// <param name="Replica">Replica number.</param>
/// <param name="StartedAt">When the run started it.</param>
/// <param name="EndedAt">When the run learnt that it ended; null while it plays.</param>
/// <param name="Ended">How it ended; null while it plays.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ScenePlay")]
public sealed record ScenePlay(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] string SceneId,
    [property: Id(2)] int Replica,
    [property: Id(3)] DateTimeOffset StartedAt,
    [property: Id(4)] DateTimeOffset? EndedAt = null,
    [property: Id(5)] SceneStatus? Ended = null);

/// <summary>A run in the catalogue.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenario">Scenario name.</param>
/// <param name="Scenes">Scene replicas.</param>
/// <param name="StartedAt">When it started.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.RunEntry")]
public sealed record RunEntry(
    [property: Id(0)] string RunId,
    [property: Id(1)] string Scenario,
    [property: Id(2)] int Scenes,
    [property: Id(3)] DateTimeOffset StartedAt);

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
/// <param name="Paused">True while the run is paused.</param>
/// <param name="Stopped">True when the run was stopped before its scenes ended on their own.</param>
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
    [property: Id(8)] long LiveTokens = 0,
    [property: Id(9)] bool Paused = false,
    [property: Id(10)] bool Stopped = false)
{
    /// <summary>True when every scene has ended.</summary>
    public bool Done => Completed + Failed >= Scenes;
}
