using Orleans.Concurrency;
using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Contracts.Scenes;

/// <summary>
/// The stage manager of one scene replica: picks speakers, injects narration and interventions, broadcasts each
/// line to those who can hear it. Key: <c>{run id}/{scene id}/{replica}</c>.
/// </summary>
public interface ISceneGrain : IGrainWithStringKey
{
    /// <summary>Starts playing (idempotent); returns at once, the scene plays on its own.</summary>
    Task Start(SceneStart start);

    /// <summary>Where the scene is.</summary>
    Task<SceneStatus> GetStatus();

    /// <summary>Every line so far.</summary>
    Task<IReadOnlyList<SceneLine>> GetTranscript();

    /// <summary>Lines from <paramref name="fromIndex"/> on, as they are spoken, until the scene ends.</summary>
    [AlwaysInterleave]
    IAsyncEnumerable<SceneLine> Watch(int fromIndex, CancellationToken cancellationToken = default);
}

/// <summary>What a scene needs to play.</summary>
/// <param name="RunId">Scenario run it belongs to.</param>
/// <param name="Replica">Replica number, from 0.</param>
/// <param name="Scene">Scene definition.</param>
/// <param name="Cast">Persona cards of the characters present, in the scene's order.</param>
/// <param name="Sampling">Sampling settings.</param>
/// <param name="Scenario">Scenario name (metric tag); null for a scene started on its own.</param>
/// <param name="WatchRoles">Roles attribution scores every line against, besides the cast's (the scenario's <c>watch_roles</c>).</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneStart")]
public sealed record SceneStart(
    [property: Id(0)] string RunId,
    [property: Id(1)] int Replica,
    [property: Id(2)] SceneDefinition Scene,
    [property: Id(3)] IReadOnlyList<PersonaCard> Cast,
    [property: Id(4)] SamplingSettings Sampling,
    [property: Id(5)] string? Scenario = null,
    [property: Id(6)] IReadOnlyList<string>? WatchRoles = null);

/// <summary>Lifecycle of a scene.</summary>
public enum ScenePhase
{
    /// <summary>Not started.</summary>
    NotStarted,

    /// <summary>Playing.</summary>
    Playing,

    /// <summary>Ended normally (max turns or a stop phrase).</summary>
    Completed,

    /// <summary>Ended by an error.</summary>
    Failed,
}

/// <summary>A scene's progress.</summary>
/// <param name="SceneKey">Grain key.</param>
/// <param name="Phase">Lifecycle phase.</param>
/// <param name="Turns">Character lines spoken.</param>
/// <param name="Lines">Lines in the transcript.</param>
/// <param name="Tokens">Generated tokens.</param>
/// <param name="EndReason">Why it ended (max turns, stop phrase, error text).</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneStatus")]
public sealed record SceneStatus(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] ScenePhase Phase,
    [property: Id(2)] int Turns,
    [property: Id(3)] int Lines,
    [property: Id(4)] int Tokens,
    [property: Id(5)] string? EndReason = null);
