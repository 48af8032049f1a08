using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Contracts.Characters;

/// <summary>
/// One character through a story: its persona card and its own view of each scene it is in (only the lines it
/// witnessed), kept from scene to scene. Key: <c>{story}/{character id}</c> (<see cref="StoryKeys"/>); a scene on its
/// own has characters of its own, keyed <c>{scene key}/{character id}</c>.
/// </summary>
public interface ICharacterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Casts the character into a scene (idempotent: a second call for the same scene and persona changes nothing). A
    /// character of a story that was in another scene leaves it for this one and brings what
    /// <see cref="CharacterCasting.Carry"/> says of the scenes it played; returns what it brought.
    /// </summary>
    /// <exception cref="InvalidOperationException">The character is another persona, or already played that scene.</exception>
    [ResponseTimeout("00:10:00")]
    Task<CarriedMemory> Join(CharacterCasting casting);

    /// <summary>The character sees or hears a line; a line it already has (same index) is ignored.</summary>
    Task Witness(SceneLine line);

    /// <summary>
    /// Speaks the line at <see cref="SpeakRequest.Index"/>: builds its dialogue prompt from what it witnessed and asks
    /// the pool. Asking again for an index it already spoke returns the same line.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<SceneLine> Speak(SpeakRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the character knows and has seen, and the prompt it would speak from now; with <paramref name="sceneKey"/>,
    /// as it was when it left that scene of its story (or as it is, when it is still there).
    /// </summary>
    /// <exception cref="InvalidOperationException">It has joined no scene, or never <paramref name="sceneKey"/>.</exception>
    Task<CharacterView> GetView(string? sceneKey = null);

    /// <summary>
    /// Copies the character as it was before transcript line <see cref="CharacterFork.BeforeIndex"/> into the same
    /// character of each branch scene: their state (casting and witnessed lines) and their sequence in the pool, which is
    /// brought to that point once and copied, so no branch prefills it.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<ForkReply> ForkInto(CharacterFork fork);

    /// <summary>Starts as the copy of a character of the scene this one's scene was forked from (idempotent).</summary>
    Task Adopt(CharacterCopy copy);

    /// <summary>
    /// Gives the same character of another story (<paramref name="targetKey"/>) its past as this one had it before scene
    /// <paramref name="sceneId"/>: the scenes it played before that one. For a character who joins a branch's story
    /// in a later scene of it.
    /// </summary>
    Task CopyBefore(string sceneId, string targetKey);

    /// <summary>Starts with <paramref name="story"/> as its past, before it joins any scene (does nothing once it has a past or a scene).</summary>
    Task Seed(IReadOnlyList<PlayedScene> story);
}

/// <summary>A character as it was at a fork point, for the same character of a branch's story.</summary>
/// <param name="Casting">The branch scene's casting.</param>
/// <param name="Witnessed">What it witnessed of the forked scene before the fork point (with what it brought into it, at negative indexes).</param>
/// <param name="Memory">Its memory then (<see cref="MemoryCarry.Summary"/> or <see cref="MemorySummary.Model"/>).</param>
/// <param name="Story">The scenes of its story it played before the forked one.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterCopy")]
public sealed record CharacterCopy(
    [property: Id(0)] CharacterCasting Casting,
    [property: Id(1)] IReadOnlyList<SceneLine> Witnessed,
    [property: Id(2)] string? Memory,
    [property: Id(3)] IReadOnlyList<PlayedScene> Story);

/// <summary>A scene a character of a story played, as it left it.</summary>
/// <param name="Casting">How it was cast there (the scene's key and setting, who was present).</param>
/// <param name="Witnessed">The lines it witnessed there (and, at negative indexes, what it brought into it).</param>
/// <param name="Memory">Its memory when it left.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.PlayedScene")]
public sealed record PlayedScene(
    [property: Id(0)] CharacterCasting Casting,
    [property: Id(1)] IReadOnlyList<SceneLine> Witnessed,
    [property: Id(2)] string? Memory)
{
    /// <summary>The scene's key.</summary>
    public string SceneKey => Casting.SceneKey;
}

/// <summary>A character's part in a scene fork.</summary>
/// <param name="BeforeIndex">First transcript index the branches do not share.</param>
/// <param name="BranchSceneKeys">The branch scenes.</param>
/// <param name="Sampling">The branches' sampling.</param>
/// <param name="SceneKey">The scene forked (a character of a story may have played on into later scenes since); null: the one it is in.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterFork")]
public sealed record CharacterFork(
    [property: Id(0)] int BeforeIndex,
    [property: Id(1)] IReadOnlyList<string> BranchSceneKeys,
    [property: Id(2)] SamplingSettings Sampling,
    [property: Id(3)] string? SceneKey = null);

/// <summary>Who the character is and where.</summary>
/// <param name="SceneKey">Key of the scene grain.</param>
/// <param name="Persona">Persona card.</param>
/// <param name="Setting">The scene's setting.</param>
/// <param name="CastNames">Names of everyone on stage (the character's included), for stop cues.</param>
/// <param name="Sampling">Sampling settings.</param>
/// <param name="PromptFormat">The prompt format the scenario asks for.</param>
/// <param name="Memory">What the character keeps of the lines its context budget drops.</param>
/// <param name="Carry">What a character of a story brings into this scene from the ones it played.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterCasting")]
public sealed record CharacterCasting(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] PersonaCard Persona,
    [property: Id(2)] string Setting,
    [property: Id(3)] IReadOnlyList<string> CastNames,
    [property: Id(4)] SamplingSettings Sampling,
    [property: Id(5)] PromptFormatChoice PromptFormat = PromptFormatChoice.Auto,
    [property: Id(6)] MemorySummary Memory = MemorySummary.None,
    [property: Id(7)] MemoryCarry Carry = MemoryCarry.Lines);

/// <summary>A request to speak.</summary>
/// <param name="Index">Transcript index the line will have.</param>
/// <param name="Turn">Character turn number.</param>
/// <param name="Seed">Sampler seed for this line.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SpeakRequest")]
public sealed record SpeakRequest(
    [property: Id(0)] int Index,
    [property: Id(1)] int Turn,
    [property: Id(2)] uint Seed);

/// <summary>A character's state as others may inspect it.</summary>
/// <param name="Persona">Persona card.</param>
/// <param name="Witnessed">Lines it saw or heard, in order.</param>
/// <param name="Prompt">The dialogue prompt it would speak from now.</param>
/// <param name="SceneKey">The scene it is in now.</param>
/// <param name="Played">The scenes of its story it played before, in order.</param>
/// <param name="Carried">What it brought into the scene it is in.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterView")]
public sealed record CharacterView(
    [property: Id(0)] PersonaCard Persona,
    [property: Id(1)] IReadOnlyList<SceneLine> Witnessed,
    [property: Id(2)] string Prompt,
    [property: Id(3)] string? SceneKey = null,
    [property: Id(4)] IReadOnlyList<string>? Played = null,
    [property: Id(5)] CarriedMemory? Carried = null);
