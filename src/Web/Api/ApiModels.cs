using System.Text.Json;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Web.Api;

/// <summary>A run the API started.</summary>
/// <param name="RunId">Its id: the key of every other call about it.</param>
public sealed record RunStarted(string RunId);

/// <summary>A run as it stands.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenario">Scenario name.</param>
/// <param name="Scenes">Scene replicas in all.</param>
/// <param name="Completed">Scenes that ended normally (stopped ones included).</param>
/// <param name="Failed">Scenes that ended with an error.</param>
/// <param name="Playing">Scenes still playing (paused ones included).</param>
/// <param name="Paused">True while the run is paused.</param>
/// <param name="Stopped">True when the run was stopped.</param>
/// <param name="Done">True when every scene has ended.</param>
/// <param name="Lines">Character lines spoken so far (since the run's grain was last activated).</param>
/// <param name="Tokens">Tokens generated so far (likewise).</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Summary">The run's <c>summary.json</c> once this process has written its folder; null before.</param>
public sealed record RunView(
    string RunId,
    string Scenario,
    int Scenes,
    int Completed,
    int Failed,
    int Playing,
    bool Paused,
    bool Stopped,
    bool Done,
    long Lines,
    long Tokens,
    DateTimeOffset StartedAt,
    JsonElement? Summary = null);

/// <summary>One scene replica of a run.</summary>
/// <param name="Key">Grain key <c>{run}/{scene}/{replica}</c>.</param>
/// <param name="SceneId">Scene id in the scenario.</param>
/// <param name="Replica">Replica (a branch adds <c>~{fork}.{branch}</c>).</param>
/// <param name="Status">Where it is.</param>
public sealed record SceneEntry(string Key, string SceneId, string Replica, SceneStatus Status);

/// <summary>A character of a scene, as the page shows it.</summary>
/// <param name="Id">Character id (what an intervention's <c>to</c> names).</param>
/// <param name="Name">Name on stage.</param>
/// <param name="Role">Assigned role.</param>
public sealed record CastMember(string Id, string Name, string Role);

/// <summary>A scene with its transcript so far.</summary>
/// <param name="Key">Grain key.</param>
/// <param name="RunId">Run id.</param>
/// <param name="SceneId">Scene id.</param>
/// <param name="Replica">Replica (with a branch suffix for a branch).</param>
/// <param name="Status">Where it is.</param>
/// <param name="Setting">The scene's setting.</param>
/// <param name="MaxTurns">Character turns it plays at most.</param>
/// <param name="Cast">Characters present.</param>
/// <param name="Lineage">Where it was forked from and the forks made of it.</param>
/// <param name="Lines">Every line so far.</param>
public sealed record SceneView(
    string Key,
    string RunId,
    string SceneId,
    string Replica,
    SceneStatus Status,
    string Setting,
    int MaxTurns,
    IReadOnlyList<CastMember> Cast,
    SceneLineage Lineage,
    IReadOnlyList<SceneLine> Lines);

/// <summary>A line sent into a playing scene.</summary>
/// <param name="Speaker">Who speaks it (e.g. <c>User</c> or <c>Narrator</c>); <c>User</c> when left out.</param>
/// <param name="Text">The line.</param>
/// <param name="To">Character id to whisper it to; left out for everyone present.</param>
public sealed record InterventionRequest(string? Speaker, string? Text, string? To);

/// <summary>An intervention queued.</summary>
/// <param name="Turn">The character turn it is spoken before.</param>
public sealed record InterventionAccepted(int Turn);

/// <summary>A fork of an ended scene.</summary>
/// <param name="Branches">Branch scenes (1 to 64).</param>
/// <param name="AtTurn">Character turn the branches start at; left out for the end of the scene.</param>
public sealed record ForkRequest(int Branches = 1, int? AtTurn = null);

/// <summary>
/// A character's view of a scene: what it witnessed and the prompt it would speak from now (a character of a story that
/// has played on into later scenes: as it was when it left this one).
/// </summary>
/// <param name="Id">Character id.</param>
/// <param name="Name">Name.</param>
/// <param name="Role">Assigned role.</param>
/// <param name="Witnessed">Lines it saw or heard, in order (whispers to others are not among them), after what it brought into the scene (negative indexes).</param>
/// <param name="Prompt">Its dialogue prompt.</param>
/// <param name="Played">The scenes of its story it played before this one, in order.</param>
/// <param name="Carried">What it brought into this scene from them (<c>memory: {carry: ...}</c>).</param>
public sealed record CharacterContext(string Id, string Name, string Role, IReadOnlyList<SceneLine> Witnessed, string Prompt, IReadOnlyList<string> Played, CarriedMemory Carried);
