namespace AgentTheater.Contracts.Scenarios;

/// <summary>A scenario file, validated: who plays, where, how they are sampled and how many times.</summary>
/// <param name="Name">Scenario name (defaults to the file name).</param>
/// <param name="Characters">Persona cards, by id.</param>
/// <param name="Scenes">Scenes to play, each with the characters present.</param>
/// <param name="Sampling">Sampling of every character's lines.</param>
/// <param name="Replicas">How many independent copies of every scene to play.</param>
/// <param name="Model">Model file (GGUF) to play with, or null for the default.</param>
/// <param name="WatchRoles">Extra roles that attribution scores every line against (e.g. "a pirate").</param>
/// <param name="PromptFormat">How characters' prompts are laid out for the model (the scenario's <c>prompt_format</c>).</param>
/// <param name="Memory">What a character keeps of the witnessed lines its context budget drops (the scenario's <c>memory</c>).</param>
/// <param name="Carry">What a character brings from the scenes it played into the next one (the scenario's <c>memory: {carry: ...}</c>).</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ScenarioDefinition")]
public sealed record ScenarioDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<PersonaCard> Characters,
    [property: Id(2)] IReadOnlyList<SceneDefinition> Scenes,
    [property: Id(3)] SamplingSettings Sampling,
    [property: Id(4)] int Replicas = 1,
    [property: Id(5)] string? Model = null,
    [property: Id(6)] IReadOnlyList<string>? WatchRoles = null,
    [property: Id(7)] PromptFormatChoice PromptFormat = PromptFormatChoice.Auto,
    [property: Id(8)] MemorySummary Memory = MemorySummary.None,
    [property: Id(9)] MemoryCarry Carry = MemoryCarry.Lines)
{
    /// <summary>The persona card with <paramref name="id"/>.</summary>
    public PersonaCard Character(string id) =>
        Characters.FirstOrDefault(c => c.Id == id) ?? throw new KeyNotFoundException($"Scenario '{Name}' has no character '{id}'.");
}

/// <summary>A character: who it is, what it wants, what only it knows, how it talks.</summary>
/// <param name="Id">Identifier used in scenes (e.g. <c>innkeeper</c>).</param>
/// <param name="Name">Name spoken on stage and used as the line cue (e.g. <c>Marta</c>).</param>
/// <param name="Role">Role description (e.g. "the innkeeper of the Grey Goose").</param>
/// <param name="Goals">What the character wants in the scene.</param>
/// <param name="PrivateKnowledge">What only this character knows (never in another character's context).</param>
/// <param name="SpeakingStyle">How the character talks.</param>
/// <param name="PlayAs">
/// A stage direction, never shown to the character: from a turn on, its lines are generated as another role while
/// attribution still compares them with <paramref name="Role"/> (a forced takeover, to measure detection). Null: never.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.PersonaCard")]
public sealed record PersonaCard(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Role,
    [property: Id(3)] IReadOnlyList<string> Goals,
    [property: Id(4)] IReadOnlyList<string> PrivateKnowledge,
    [property: Id(5)] string SpeakingStyle,
    [property: Id(6)] ForcedRole? PlayAs = null);

/// <summary>A forced takeover: the character speaks as <paramref name="Role"/> from scene turn <paramref name="FromTurn"/> on.</summary>
/// <param name="Role">The role its lines are generated as (its persona card becomes just its name and this role).</param>
/// <param name="FromTurn">First scene turn (0-based, as interventions count) spoken as that role.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ForcedRole")]
public sealed record ForcedRole(
    [property: Id(0)] string Role,
    [property: Id(1)] int FromTurn);

/// <summary>The prompt format a scenario asks for (<c>prompt_format</c>).</summary>
public enum PromptFormatChoice
{
    /// <summary>
    /// Decided by the model: the project's own models (<c>agent_theater.prompt_format</c> in the GGUF) get the script,
    /// a model with a chat template llama.cpp recognises gets chat, any other the script.
    /// </summary>
    Auto,

    /// <summary>The project's completion format (<c>[Character] Name, role</c> ... <c>Speaker: line</c> ... <c>Name:</c>).</summary>
    Script,

    /// <summary>The model's chat template; an error with a model that has none llama.cpp recognises.</summary>
    Chat,
}

/// <summary>How the next speaker is chosen.</summary>
public enum TurnPolicy
{
    /// <summary>Present characters in order.</summary>
    RoundRobin,

    /// <summary>A character named in the last line speaks next; otherwise round-robin; nobody silent past the scene's max silence.</summary>
    Addressed,

    /// <summary>
    /// The simulator chooses: every candidate's name cue is scored after the recent transcript, weighed with a turn-taking
    /// prior (recent speakers penalised, the addressed boosted), the likeliest speaks; nobody silent past the scene's max silence.
    /// </summary>
    Director,
}

/// <summary>One scene of a scenario.</summary>
/// <param name="Id">Scene identifier.</param>
/// <param name="Setting">Where and when, as the narrator tells it.</param>
/// <param name="Present">Ids of the characters on stage, in round-robin order.</param>
/// <param name="Policy">Turn-taking policy.</param>
/// <param name="MaxTurns">Character lines after which the scene ends.</param>
/// <param name="StopPhrases">A line containing one of these ends the scene.</param>
/// <param name="Narration">Narrator lines told before the first turn, to everyone.</param>
/// <param name="Interventions">Lines injected at given turns (how takeover attempts enter).</param>
/// <param name="MaxSilence">
/// Addressed and director policies: the most character turns a present character goes without speaking; one about to
/// go longer gets the turn. Null: three times the number of characters present.
/// </param>
/// <param name="RecencyPenalty">Director: nats taken off the score of the character who spoke last, decaying to none over the cast size. Null: the default.</param>
/// <param name="AddressedBoost">Director: nats added to the score of a character named in the last line. Null: the default.</param>
/// <param name="After">
/// Ids of the scenes this one comes after, resolved: in every replica it starts once all of them have ended (completed or
/// failed). The scenario file's <c>after</c>, or when it has none the nearest earlier scene sharing a character with this
/// one. Empty: it starts with the run. Null (a definition not read from a file): empty.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneDefinition")]
public sealed record SceneDefinition(
    [property: Id(0)] string Id,
    [property: Id(1)] string Setting,
    [property: Id(2)] IReadOnlyList<string> Present,
    [property: Id(3)] TurnPolicy Policy,
    [property: Id(4)] int MaxTurns,
    [property: Id(5)] IReadOnlyList<string> StopPhrases,
    [property: Id(6)] IReadOnlyList<string> Narration,
    [property: Id(7)] IReadOnlyList<InterventionDefinition> Interventions,
    [property: Id(8)] int? MaxSilence = null,
    [property: Id(9)] float? RecencyPenalty = null,
    [property: Id(10)] float? AddressedBoost = null,
    [property: Id(11)] IReadOnlyList<string>? After = null);

/// <summary>A line injected before a character turn.</summary>
/// <param name="Turn">Injected before this character turn (0 = before the first).</param>
/// <param name="Speaker">Who says it (default <c>User</c>).</param>
/// <param name="Text">The line.</param>
/// <param name="To">A character id to whisper it to, or null for everyone present.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.InterventionDefinition")]
public sealed record InterventionDefinition(
    [property: Id(0)] int Turn,
    [property: Id(1)] string Speaker,
    [property: Id(2)] string Text,
    [property: Id(3)] string? To = null);

/// <summary>Sampling of character lines.</summary>
/// <param name="Temperature">0 for greedy.</param>
/// <param name="TopP">Nucleus sampling threshold.</param>
/// <param name="TopK">Top-k (0: off).</param>
/// <param name="RepetitionPenalty">1: off.</param>
/// <param name="Seed">Base seed; each line's seed is derived from it, the scene replica and the turn.</param>
/// <param name="MaxTokensPerLine">Longest line in tokens.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SamplingSettings")]
public sealed record SamplingSettings(
    [property: Id(0)] float Temperature = 0.8f,
    [property: Id(1)] float TopP = 0.95f,
    [property: Id(2)] int TopK = 40,
    [property: Id(3)] float RepetitionPenalty = 1.1f,
    [property: Id(4)] long Seed = 1,
    [property: Id(5)] int MaxTokensPerLine = 48);

/// <summary>What a character keeps of the witnessed lines its context budget drops (<c>memory: {summary: ...}</c>).</summary>
public enum MemorySummary
{
    /// <summary>Nothing: the prompt says that earlier lines were left out.</summary>
    None,

    /// <summary>
    /// The character's own model writes a short summary of the dropped lines through the pool (folding in the previous
    /// summary), kept in the prompt after the card.
    /// </summary>
    Model,
}

/// <summary>
/// What a character brings from the scenes of its story it played into the next one (<c>memory: {carry: ...}</c>). A
/// character is one grain per replica, so it always keeps what it witnessed; this says what of it the next prompt shows.
/// </summary>
public enum MemoryCarry
{
    /// <summary>Nothing: each scene starts from the card alone.</summary>
    None,

    /// <summary>The most recent lines it witnessed in earlier scenes that fit its context budget, each scene headed by its setting.</summary>
    Lines,

    /// <summary>A summary of the earlier scenes, written by the character's own model through the pool as it enters each scene.</summary>
    Summary,
}
