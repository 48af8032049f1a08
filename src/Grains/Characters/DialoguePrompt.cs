using System.Text;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Characters;

/// <summary>
/// The dialogue prompt a character speaks from: its own persona card (never anyone else's private knowledge),
/// the setting, the lines it witnessed, and its name cue. The project's model is trained on exactly this format
/// (<see cref="Build"/>, the script format); instruct models get the same as chat turns (<see cref="BuildChat"/>).
/// </summary>
public static class DialoguePrompt
{
    /// <summary>Speaker name used for narrator lines.</summary>
    public const string NarratorName = "Narrator";

    /// <summary>
    /// The line after the setting that tells a character whose context budget dropped its oldest witnessed lines that
    /// they were there. The same text whatever was dropped, so a later drop changes nothing before the kept lines.
    /// </summary>
    public const string OmittedMarker = "[Earlier] earlier lines of the scene are left out";

    /// <summary><see cref="OmittedMarker"/> in the chat format's system message.</summary>
    public const string OmittedChatMarker = "Earlier lines of the scene are left out.";

    /// <summary>
    /// Builds the prompt ending in <c>"{Name}:"</c>. With <paramref name="omittedEarlier"/>, <paramref name="witnessed"/>
    /// are the lines a context budget kept, and <see cref="OmittedMarker"/> says that earlier ones were left out; a
    /// <paramref name="memory"/> (the character's summary of them) follows the card as <c>[Memory]</c>.
    /// </summary>
    public static string Build(CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier = false, string? memory = null)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        var persona = casting.Persona;
        var text = AppendCard(new StringBuilder(), $"{persona.Name}, {persona.Role}", persona, secrets: true);
        if (!string.IsNullOrWhiteSpace(memory))
        {
            text.Append("[Memory] ").Append(Flatten(memory)).Append('\n');
        }

        return AppendScene(text, casting, witnessed, omittedEarlier);
    }

    /// <summary>
    /// A role's card without anyone's name (<c>[Character] a pirate</c>, its goals and style, never a secret), then who
    /// is present (the whole cast), the setting, the lines and the speaker's name cue. Like
    /// <see cref="BuildWithoutPersona"/>, the same text up to the cue for every character who witnessed the same lines,
    /// so attribution's rival roles can share one cached session a scene (<c>Attribution:SharedRivals</c>).
    /// </summary>
    public static string BuildAsRole(CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier = false)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        var text = AppendCard(new StringBuilder(), casting.Persona.Role, casting.Persona, secrets: false);
        return AppendScene(text, casting, witnessed, omittedEarlier, presentIncludesSpeaker: true);
    }

    /// <summary>
    /// The same prompt without a persona: only who is present (the whole cast, the speaker too), the setting, the lines
    /// and the name cue. Attribution scores lines under it as the "no role" explanation. Everything before the name cue
    /// is the same for every character who witnessed the same lines, so the characters of a scene share one cached
    /// session for it.
    /// </summary>
    public static string BuildWithoutPersona(CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier = false)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        return AppendScene(new StringBuilder(), casting, witnessed, omittedEarlier, presentIncludesSpeaker: true);
    }

    /// <summary>
    /// The same prompt in the chat format: the card, who is present, the setting and an instruction to speak only as
    /// the character, one line, as the system message; every line another speaker said (narrator and interventions
    /// included) as a user turn <c>Speaker: text</c> (whispers marked as in the script); the character's own lines as
    /// assistant turns (their text only). The pool ends it with the template's assistant prompt.
    /// </summary>
    public static IReadOnlyList<PromptMessage> BuildChat(CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier = false, string? memory = null)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        var persona = casting.Persona;
        var card = new StringBuilder();
        card.Append("You are ").Append(persona.Name).Append(", ").Append(persona.Role).Append(".\n");
        if (persona.Goals.Count > 0)
        {
            card.Append("Your goals: ").AppendJoin("; ", persona.Goals).Append('\n');
        }

        if (persona.PrivateKnowledge.Count > 0)
        {
            card.Append("Only you know: ").AppendJoin("; ", persona.PrivateKnowledge).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(persona.SpeakingStyle))
        {
            card.Append("How you speak: ").Append(persona.SpeakingStyle).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(memory))
        {
            card.Append("What you remember of the scene so far: ").Append(Flatten(memory)).Append('\n');
        }

        return ChatScene(card, casting, witnessed, omittedEarlier);
    }

    /// <summary>
    /// <see cref="BuildChat"/> without a persona: the system message holds only who is present, the setting and the
    /// instruction to speak as the character (by name). Attribution's "no role" explanation in the chat format.
    /// </summary>
    public static IReadOnlyList<PromptMessage> BuildChatWithoutPersona(CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier = false)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        return ChatScene(new StringBuilder(), casting, witnessed, omittedEarlier);
    }

    /// <summary>The content of the chat message a witnessed line becomes (<see cref="BuildChat"/>).</summary>
    public static string ChatContent(CharacterCasting casting, SceneLine line) =>
        IsOwnLine(casting, line) ? Flatten(line.Text) : $"{Cue(line)} {Flatten(line.Text)}";

    /// <summary>
    /// The prompt the character's memory is written from: the setting, what it remembered before, the lines it no longer
    /// keeps, and a cue for a one-line summary. Script text, or chat messages (then the text is empty).
    /// </summary>
    public static (string Text, IReadOnlyList<PromptMessage>? Messages) BuildMemory(CharacterCasting casting, string? memory, IEnumerable<SceneLine> dropped, bool chat)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(dropped);
        var lines = new StringBuilder();
        foreach (var line in dropped)
        {
            AppendLine(lines, line);
        }

        var name = casting.Persona.Name;
        if (chat)
        {
            var earlier = string.IsNullOrWhiteSpace(memory) ? "" : $"What {name} remembered before: {Flatten(memory)}\n\n";
            return (string.Empty,
            [
                PromptMessage.System($"You keep {name}'s memory of a scene ({casting.Setting}). Summarise what happened in one or two short sentences, from {name}'s side."),
                PromptMessage.User(earlier + lines),
            ]);
        }

        var text = new StringBuilder("[Scene] ").Append(casting.Setting).Append('\n');
        if (!string.IsNullOrWhiteSpace(memory))
        {
            text.Append("[Memory] ").Append(Flatten(memory)).Append('\n');
        }

        return (text.Append('\n').Append(lines).Append("[Memory] ").Append(name).Append(" remembers:").ToString(), null);
    }

    /// <summary>The character under its own name in another role: the card is the name and that role, nothing else.</summary>
    public static PersonaCard AsRole(PersonaCard persona, string role)
    {
        ArgumentNullException.ThrowIfNull(persona);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        return persona with { Role = role, Goals = [], PrivateKnowledge = [], SpeakingStyle = "", PlayAs = null };
    }

    /// <summary>The role a scenario forces the character to speak as at <paramref name="turn"/> (<c>play_as</c>); null for its own.</summary>
    public static string? ForcedRole(PersonaCard persona, int turn)
    {
        ArgumentNullException.ThrowIfNull(persona);
        return persona.PlayAs is { } forced && turn >= forced.FromTurn ? forced.Role : null;
    }

    /// <summary>The transcript line as one who witnessed it sees it, with its line end.</summary>
    public static string Line(SceneLine line) => AppendLine(new StringBuilder(), line).ToString();

    /// <summary>The transcript line as one who witnessed it sees it (a whisper reaches only the one it is for).</summary>
    public static StringBuilder AppendLine(StringBuilder text, SceneLine line)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(line);
        return text.Append(Cue(line)).Append(' ').Append(Flatten(line.Text)).Append('\n');
    }

    /// <summary>Whether <paramref name="line"/> is one the character of <paramref name="casting"/> said itself.</summary>
    public static bool IsOwnLine(CharacterCasting casting, SceneLine line)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(line);
        return line.Kind == LineKind.Character
            && (line.SpeakerId is { } id ? id == casting.Persona.Id : line.Speaker == casting.Persona.Name);
    }

    /// <summary>Where a character's line must end: at the line end or at another speaker's cue.</summary>
    public static IReadOnlyList<string> StopStrings(CharacterCasting casting)
    {
        ArgumentNullException.ThrowIfNull(casting);
        return ["\n", .. casting.CastNames.Where(n => n != casting.Persona.Name).Select(n => n + ":")];
    }

    /// <summary>Lines are one line each in the prompt format.</summary>
    public static string Flatten(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary>The script card: <c>[Character] {character}</c>, then the persona's goals, secrets (when asked) and style.</summary>
    private static StringBuilder AppendCard(StringBuilder text, string character, PersonaCard persona, bool secrets)
    {
        text.Append("[Character] ").Append(character).Append('\n');
        if (persona.Goals.Count > 0)
        {
            text.Append("[Goals] ").AppendJoin("; ", persona.Goals).Append('\n');
        }

        if (secrets && persona.PrivateKnowledge.Count > 0)
        {
            text.Append("[Secret] ").AppendJoin("; ", persona.PrivateKnowledge).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(persona.SpeakingStyle))
        {
            text.Append("[Style] ").Append(persona.SpeakingStyle).Append('\n');
        }

        return text;
    }

    private static string AppendScene(StringBuilder text, CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier, bool presentIncludesSpeaker = false)
    {
        var persona = casting.Persona;
        var others = presentIncludesSpeaker ? [.. casting.CastNames] : casting.CastNames.Where(n => n != persona.Name).ToList();
        if (others.Count > 0)
        {
            text.Append("[Present] ").AppendJoin(", ", others).Append('\n');
        }

        text.Append("[Scene] ").Append(casting.Setting).Append('\n');
        if (omittedEarlier)
        {
            text.Append(OmittedMarker).Append('\n');
        }

        text.Append('\n');
        foreach (var line in witnessed)
        {
            AppendLine(text, line);
        }

        return text.Append(persona.Name).Append(':').ToString();
    }

    private static string Cue(SceneLine line) => line.To is null ? line.Speaker + ":" : line.Speaker + " (whispering to you):";

    private static List<PromptMessage> ChatScene(StringBuilder card, CharacterCasting casting, IEnumerable<SceneLine> witnessed, bool omittedEarlier)
    {
        var persona = casting.Persona;
        var others = casting.CastNames.Where(n => n != persona.Name).ToList();
        if (others.Count > 0)
        {
            card.Append("Also present: ").AppendJoin(", ", others).Append('\n');
        }

        card.Append("The scene: ").Append(casting.Setting).Append('\n');
        if (omittedEarlier)
        {
            card.Append(OmittedChatMarker).Append('\n');
        }

        card.Append('\n')
            .Append("You speak only as ").Append(persona.Name).Append(". Each message you receive is a line said by someone in the scene. ")
            .Append("Reply with ").Append(persona.Name).Append("'s next line only: one line of dialogue, without the name in front, ")
            .Append("never a line for anyone else.");
        var messages = new List<PromptMessage> { PromptMessage.System(card.ToString()) };
        foreach (var line in witnessed)
        {
            messages.Add(IsOwnLine(casting, line) ? PromptMessage.Assistant(ChatContent(casting, line)) : PromptMessage.User(ChatContent(casting, line)));
        }

        return messages;
    }
}
