namespace AgentTheater.Contracts.Scenes;

/// <summary>What kind of line this is.</summary>
public enum LineKind
{
    /// <summary>Spoken by a character (generated).</summary>
    Character,

    /// <summary>Told by the narrator (setting, scene directions).</summary>
    Narrator,

    /// <summary>Injected by the scenario at a given turn (e.g. a "User" line, a takeover attempt).</summary>
    Intervention,
}

/// <summary>One line of a scene as it happened.</summary>
/// <param name="Index">Position in the scene transcript, from 0 (narration and interventions count).</param>
/// <param name="Turn">Character turn this line belongs to (interventions carry the turn they precede).</param>
/// <param name="Kind">Character, narrator or intervention.</param>
/// <param name="SpeakerId">Character id, or null for narrator and intervention speakers.</param>
/// <param name="Speaker">Name shown on stage.</param>
/// <param name="Text">The line.</param>
/// <param name="To">Character id it was whispered to, or null when everyone present heard it.</param>
/// <param name="Tokens">Generated tokens (character lines).</param>
/// <param name="PrefillTokens">Prompt tokens the pool had to prefill for it (the rest came from the cached prefix).</param>
/// <param name="QueueMilliseconds">Time waiting for a sequence in the pool.</param>
/// <param name="GenerateMilliseconds">Time from admission to the last token.</param>
/// <param name="OmittedLines">
/// Witnessed lines the speaker's prompt left out to stay within its context budget when it spoke this line (its
/// oldest ones; 0 while everything fits).
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneLine")]
public sealed record SceneLine(
    [property: Id(0)] int Index,
    [property: Id(1)] int Turn,
    [property: Id(2)] LineKind Kind,
    [property: Id(3)] string? SpeakerId,
    [property: Id(4)] string Speaker,
    [property: Id(5)] string Text,
    [property: Id(6)] string? To = null,
    [property: Id(7)] int Tokens = 0,
    [property: Id(8)] int PrefillTokens = 0,
    [property: Id(9)] double QueueMilliseconds = 0,
    [property: Id(10)] double GenerateMilliseconds = 0,
    [property: Id(11)] int OmittedLines = 0);
