using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Contracts.Characters;

/// <summary>
/// One character in one scene: its persona card and its own view of the scene (only the lines it witnessed).
/// Key: <c>{scene key}/{character id}</c>.
/// </summary>
public interface ICharacterGrain : IGrainWithStringKey
{
    /// <summary>Casts the character into a scene (idempotent: a second call for the same scene and persona changes nothing).</summary>
    Task Join(CharacterCasting casting);

    /// <summary>The character sees or hears a line; a line it already has (same index) is ignored.</summary>
    Task Witness(SceneLine line);

    /// <summary>
    /// Speaks the line at <see cref="SpeakRequest.Index"/>: builds its dialogue prompt from what it witnessed and asks
    /// the pool. Asking again for an index it already spoke returns the same line.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<SceneLine> Speak(SpeakRequest request, CancellationToken cancellationToken = default);

    /// <summary>What the character knows and has seen, and the prompt it would speak from now.</summary>
    Task<CharacterView> GetView();

    /// <summary>
    /// Copies the character as it was before transcript line <see cref="CharacterFork.BeforeIndex"/> into the same
    /// character of each branch scene: their state (casting and witnessed lines) and their sequence in the pool, which is
    /// brought to that point once and copied, so no branch prefills it.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<ForkReply> ForkInto(CharacterFork fork);

    /// <summary>Starts as the copy of a character of the scene this one's scene was forked from (idempotent).</summary>
    Task Adopt(CharacterCasting casting, IReadOnlyList<SceneLine> witnessed);
}

/// <summary>A character's part in a scene fork.</summary>
/// <param name="BeforeIndex">First transcript index the branches do not share.</param>
/// <param name="BranchSceneKeys">The branch scenes.</param>
/// <param name="Sampling">The branches' sampling.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterFork")]
public sealed record CharacterFork(
    [property: Id(0)] int BeforeIndex,
    [property: Id(1)] IReadOnlyList<string> BranchSceneKeys,
    [property: Id(2)] SamplingSettings Sampling);

/// <summary>Who the character is and where.</summary>
/// <param name="SceneKey">Key of the scene grain.</param>
/// <param name="Persona">Persona card.</param>
/// <param name="Setting">The scene's setting.</param>
/// <param name="CastNames">Names of everyone on stage (the character's included), for stop cues.</param>
/// <param name="Sampling">Sampling settings.</param>
/// <param name="PromptFormat">The prompt format the scenario asks for.</param>
/// <param name="Memory">What the character keeps of the lines its context budget drops.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterCasting")]
public sealed record CharacterCasting(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] PersonaCard Persona,
    [property: Id(2)] string Setting,
    [property: Id(3)] IReadOnlyList<string> CastNames,
    [property: Id(4)] SamplingSettings Sampling,
    [property: Id(5)] PromptFormatChoice PromptFormat = PromptFormatChoice.Auto,
    [property: Id(6)] MemorySummary Memory = MemorySummary.None);

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
[GenerateSerializer, Immutable, Alias("AgentTheater.CharacterView")]
public sealed record CharacterView(
    [property: Id(0)] PersonaCard Persona,
    [property: Id(1)] IReadOnlyList<SceneLine> Witnessed,
    [property: Id(2)] string Prompt);
