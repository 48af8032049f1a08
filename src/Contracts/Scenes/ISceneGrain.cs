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

    /// <summary>
    /// Forks an ended scene into <see cref="SceneFork.Branches"/> branch scenes that share every line before turn
    /// <see cref="SceneFork.AtTurn"/> and then play on independently. Each character's sequence is copied in the pool
    /// (<c>llama_memory_seq_cp</c>), so the branches start without prefilling what they share, and they decode in the
    /// same batches. Branch keys are <c>{scene key}~{fork}.{branch}</c>; the fork is recorded with the scene.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<SceneForkResult> Fork(SceneFork fork);

    /// <summary>Starts this scene as a branch of another (called by the parent's <see cref="Fork"/>; idempotent).</summary>
    Task StartBranch(SceneBranchStart start);

    /// <summary>Where this scene was forked from, and the forks made of it.</summary>
    Task<SceneLineage> GetLineage();

    /// <summary>What the scene was started with (its definition, cast and sampling); null before it started.</summary>
    Task<SceneStart?> GetStart();

    /// <summary>
    /// Queues a line from outside the cast (a user, the narrator), spoken before the next character turn; whispered to
    /// one character when <see cref="SceneIntervention.To"/> is set. Returns the turn it will precede.
    /// </summary>
    /// <exception cref="ArgumentException">An empty or too long speaker or text, or <c>To</c> is not a character present.</exception>
    /// <exception cref="InvalidOperationException">The scene is not playing (not started, or ended).</exception>
    Task<int> Intervene(SceneIntervention intervention);

    /// <summary>Stops after the turn being played (if any) until <see cref="ResumePlay"/>; interventions still queue.</summary>
    Task PausePlay();

    /// <summary>Plays on after <see cref="PausePlay"/> (does nothing when not paused).</summary>
    Task ResumePlay();

    /// <summary>Ends the scene after the turn being played (if any), as completed with the reason given.</summary>
    Task StopPlay(string reason);
}

/// <summary>A line from outside the cast, sent while the scene plays.</summary>
/// <param name="Speaker">Who speaks it, as shown on stage (e.g. <c>User</c>, <c>Narrator</c>).</param>
/// <param name="Text">The line.</param>
/// <param name="To">Character id it is whispered to; null for everyone present.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneIntervention")]
public sealed record SceneIntervention(
    [property: Id(0)] string Speaker,
    [property: Id(1)] string Text,
    [property: Id(2)] string? To = null)
{
    /// <summary>Longest speaker name accepted.</summary>
    public const int MaxSpeakerLength = 64;

    /// <summary>Longest text accepted (characters): a line, not a document.</summary>
    public const int MaxTextLength = 4000;
}

/// <summary>A request to fork a scene.</summary>
/// <param name="Branches">Branch scenes to create (1 to 64).</param>
/// <param name="AtTurn">Character turn the branches start at: they share every line before it. Null: the end of the scene.</param>
/// <param name="Continuation">The scene the branches play from the fork on (same characters present; e.g. more turns, other
/// interventions). Null: the parent's definition.</param>
/// <param name="Sampling">Sampling of the branches' lines. Null: the parent's. Each branch gets its own seed from it.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneFork")]
public sealed record SceneFork(
    [property: Id(0)] int Branches,
    [property: Id(1)] int? AtTurn = null,
    [property: Id(2)] SceneDefinition? Continuation = null,
    [property: Id(3)] SamplingSettings? Sampling = null);

/// <summary>What a fork made.</summary>
/// <param name="Fork">Fork number within the parent scene, from 0.</param>
/// <param name="AtTurn">Character turn the branches start at.</param>
/// <param name="SharedLines">Transcript lines every branch shares with the parent.</param>
/// <param name="BranchKeys">Keys of the branch scenes, in branch order.</param>
/// <param name="CopiedSequences">Character sequences copied in the pool (characters × branches).</param>
/// <param name="CopiedTokens">Tokens copied, summed over the copies.</param>
/// <param name="PrefillTokens">Tokens decoded to bring the parent's sequences to the fork point (once per character, not per branch).</param>
/// <param name="At">When the fork was made.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneForkResult")]
public sealed record SceneForkResult(
    [property: Id(0)] int Fork,
    [property: Id(1)] int AtTurn,
    [property: Id(2)] int SharedLines,
    [property: Id(3)] IReadOnlyList<string> BranchKeys,
    [property: Id(4)] int CopiedSequences,
    [property: Id(5)] long CopiedTokens,
    [property: Id(6)] long PrefillTokens,
    [property: Id(7)] DateTimeOffset At);

/// <summary>Where a branch scene comes from.</summary>
/// <param name="ParentKey">The scene it was forked from.</param>
/// <param name="Fork">Fork number within the parent.</param>
/// <param name="Branch">Branch number within the fork, from 0.</param>
/// <param name="AtTurn">Character turn it starts at.</param>
/// <param name="SharedLines">Lines it shares with the parent.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneOrigin")]
public sealed record SceneOrigin(
    [property: Id(0)] string ParentKey,
    [property: Id(1)] int Fork,
    [property: Id(2)] int Branch,
    [property: Id(3)] int AtTurn,
    [property: Id(4)] int SharedLines);

/// <summary>What a branch scene needs to start.</summary>
/// <param name="Start">The branch's definition, cast and sampling.</param>
/// <param name="Origin">Where it was forked from.</param>
/// <param name="SharedLines">The parent's lines before the fork point.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneBranchStart")]
public sealed record SceneBranchStart(
    [property: Id(0)] SceneStart Start,
    [property: Id(1)] SceneOrigin Origin,
    [property: Id(2)] IReadOnlyList<SceneLine> SharedLines);

/// <summary>A scene's place in the tree of forks.</summary>
/// <param name="SceneKey">The scene.</param>
/// <param name="Origin">Where it was forked from; null for a scene a run started.</param>
/// <param name="Forks">Forks made of it, in order.</param>
/// <param name="Story">The story it is part of (<see cref="StoryKeys"/>); null for a scene on its own.</param>
/// <param name="Continuations">
/// In a branch's story, the later scenes it started when it ended (those that come after it in the scenario); null
/// until its end has started them all.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneLineage")]
public sealed record SceneLineage(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] SceneOrigin? Origin,
    [property: Id(2)] IReadOnlyList<SceneForkResult> Forks,
    [property: Id(3)] string? Story = null,
    [property: Id(4)] IReadOnlyList<string>? Continuations = null);

/// <summary>What a scene needs to play.</summary>
/// <param name="RunId">Scenario run it belongs to.</param>
/// <param name="Replica">Replica number, from 0.</param>
/// <param name="Scene">Scene definition.</param>
/// <param name="Cast">Persona cards of the characters present, in the scene's order.</param>
/// <param name="Sampling">Sampling settings.</param>
/// <param name="Scenario">Scenario name (metric tag); null for a scene started on its own.</param>
/// <param name="WatchRoles">Roles attribution scores every line against, besides the cast's (the scenario's <c>watch_roles</c>).</param>
/// <param name="PromptFormat">How the characters' prompts are laid out (the scenario's <c>prompt_format</c>).</param>
/// <param name="Memory">What characters keep of the lines their context budget drops (the scenario's <c>memory</c>).</param>
/// <param name="Story">
/// The story the scene is part of (<see cref="StoryKeys"/>): its characters are the story's, who keep what they witnessed
/// from scene to scene. Null for a scene on its own, whose characters are its own.
/// </param>
/// <param name="Carry">What the characters bring from the story's earlier scenes (the scenario's <c>memory: {carry: ...}</c>).</param>
/// <param name="Carried">
/// What each character brought into this scene, in the order of <paramref name="Cast"/>, as it said when it joined:
/// attribution scores its lines against the prompt it spoke from. Null until the cast has joined (or when none brought anything).
/// </param>
/// <param name="ParentStory">
/// For a branch of a scene and the later scenes of its story: the story it branched from. A character of a later scene
/// who is not in the branch's story yet comes from that one, as it was before that scene. Null for a story's own scenes.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneStart")]
public sealed record SceneStart(
    [property: Id(0)] string RunId,
    [property: Id(1)] int Replica,
    [property: Id(2)] SceneDefinition Scene,
    [property: Id(3)] IReadOnlyList<PersonaCard> Cast,
    [property: Id(4)] SamplingSettings Sampling,
    [property: Id(5)] string? Scenario = null,
    [property: Id(6)] IReadOnlyList<string>? WatchRoles = null,
    [property: Id(7)] PromptFormatChoice PromptFormat = PromptFormatChoice.Auto,
    [property: Id(8)] MemorySummary Memory = MemorySummary.None,
    [property: Id(9)] string? Story = null,
    [property: Id(10)] MemoryCarry Carry = MemoryCarry.Lines,
    [property: Id(11)] IReadOnlyList<CarriedMemory>? Carried = null,
    [property: Id(12)] string? ParentStory = null)
{
    /// <summary>Key of the grain of character <paramref name="characterId"/> in the scene <paramref name="sceneKey"/> (this one's key).</summary>
    public string CharacterKey(string sceneKey, string characterId) => StoryKeys.Character(Story ?? sceneKey, characterId);

    /// <summary>What character <paramref name="characterId"/> brought into the scene (nothing when it brought nothing).</summary>
    public CarriedMemory CarriedBy(string characterId)
    {
        if (Carried is { } carried)
        {
            for (var i = 0; i < Math.Min(Cast.Count, carried.Count); i++)
            {
                if (Cast[i].Id == characterId)
                {
                    return carried[i];
                }
            }
        }

        return CarriedMemory.Nothing;
    }
}

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
/// <param name="EndReason">Why it ended (max turns, stop phrase, stopped, error text).</param>
/// <param name="Paused">True while a playing scene is paused.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneStatus")]
public sealed record SceneStatus(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] ScenePhase Phase,
    [property: Id(2)] int Turns,
    [property: Id(3)] int Lines,
    [property: Id(4)] int Tokens,
    [property: Id(5)] string? EndReason = null,
    [property: Id(6)] bool Paused = false);
