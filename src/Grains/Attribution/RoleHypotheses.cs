using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Attribution;

/// <summary>A competing explanation of a character's lines and the persona card it is scored under.</summary>
/// <param name="Id">Stable id: <c>assigned</c>, <c>character:{id}</c>, <c>watch:{role}</c> or <c>neutral</c>.</param>
/// <param name="Kind">What kind of explanation.</param>
/// <param name="Role">Role text (empty for neutral).</param>
/// <param name="Card">The card that goes into the dialogue prompt; null for no persona at all.</param>
public sealed record RoleHypothesis(string Id, HypothesisKind Kind, string Role, PersonaCard? Card);

/// <summary>
/// The hypotheses a character's line is scored under, and their prompts. Every prompt is the character's own
/// dialogue prompt (same name, same witnessed lines, same name cue); only the persona card differs, so the model
/// the project trained on that format reads each one as it reads a real character's.
/// </summary>
public static class RoleHypotheses
{
    /// <summary>Id of the assigned role.</summary>
    public const string AssignedId = "assigned";

    /// <summary>Id of the no-persona hypothesis.</summary>
    public const string NeutralId = "neutral";

    /// <summary>Id of another present character's role.</summary>
    public static string CharacterId(string characterId) => "character:" + characterId;

    /// <summary>Id of a watched role.</summary>
    public static string WatchId(string role) => "watch:" + role;

    /// <summary>
    /// The hypotheses for <paramref name="speaker"/>: its assigned role first; then, under its own name, each other
    /// character present (in cast order) with that character's role, goals and style but no secrets; each watched
    /// role ("[Character] Name, a pirate", nothing else; repeats and the speaker's own role left out); and last no
    /// persona at all.
    /// </summary>
    public static IReadOnlyList<RoleHypothesis> For(PersonaCard speaker, IReadOnlyList<PersonaCard> cast, IReadOnlyList<string>? watchRoles)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        ArgumentNullException.ThrowIfNull(cast);
        var hypotheses = new List<RoleHypothesis> { new(AssignedId, HypothesisKind.Assigned, speaker.Role, speaker with { PlayAs = null }) };
        foreach (var other in cast.Where(c => c.Id != speaker.Id))
        {
            var card = speaker with { Role = other.Role, Goals = other.Goals, PrivateKnowledge = [], SpeakingStyle = other.SpeakingStyle, PlayAs = null };
            hypotheses.Add(new RoleHypothesis(CharacterId(other.Id), HypothesisKind.Character, other.Role, card));
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { speaker.Role };
        foreach (var role in watchRoles ?? [])
        {
            if (!string.IsNullOrWhiteSpace(role) && seen.Add(role))
            {
                hypotheses.Add(new RoleHypothesis(WatchId(role), HypothesisKind.Watched, role, DialoguePrompt.AsRole(speaker, role)));
            }
        }

        hypotheses.Add(new RoleHypothesis(NeutralId, HypothesisKind.Neutral, "", null));
        return hypotheses;
    }

    /// <summary>The dialogue prompt of <paramref name="hypothesis"/>: <paramref name="casting"/> with the hypothesis's card.</summary>
    public static string Prompt(RoleHypothesis hypothesis, CharacterCasting casting, IEnumerable<SceneLine> witnessed)
    {
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(casting);
        return hypothesis.Card is { } card
            ? DialoguePrompt.Build(casting with { Persona = card }, witnessed)
            : DialoguePrompt.BuildWithoutPersona(casting, witnessed);
    }

    /// <summary>
    /// The dialogue prompt of <paramref name="hypothesis"/> within the context budget and in the scenario's prompt
    /// format: the oldest witnessed lines left out as the character's own prompt leaves them out (<see cref="PromptBudget"/>).
    /// </summary>
    /// <remarks>
    /// With <paramref name="nameless"/>, a rival role (another character's or a watched one) is rendered without the
    /// speaker's name (<see cref="DialoguePrompt.BuildAsRole"/>), so every speaker's prompt for it is the same text.
    /// </remarks>
    public static async Task<DialogueRequest> PromptAsync(
        PromptBudget budget, IInferenceGrain inference, RoleHypothesis hypothesis, CharacterCasting casting, IReadOnlyList<SceneLine> witnessed, bool nameless = false)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(casting);
        var (prompt, _) = hypothesis.Card is { } card
            ? await budget.PromptAsync(inference, casting with { Persona = card }, witnessed, nameless: nameless && IsRival(hypothesis))
            : await budget.PromptAsync(inference, casting, witnessed, persona: false);
        return prompt;
    }

    /// <summary>Another character's role or a watched role: what a line is tested against.</summary>
    public static bool IsRival(RoleHypothesis hypothesis)
    {
        ArgumentNullException.ThrowIfNull(hypothesis);
        return hypothesis.Kind is HypothesisKind.Character or HypothesisKind.Watched;
    }

    /// <summary>
    /// The pool session that keeps a hypothesis's prompt cached from line to line. The assigned role uses the
    /// character's own session, which holds its generation prompt, so its score prefills only the line itself; unless
    /// the character speaks from a prompt attribution does not rebuild (<paramref name="characterHasMemory"/>: its
    /// summary of dropped lines), when the two prompts would push each other out of one sequence.
    /// </summary>
    public static string SessionKey(string characterKey, string hypothesisId, bool characterHasMemory = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(characterKey);
        ArgumentException.ThrowIfNullOrEmpty(hypothesisId);
        return hypothesisId == AssignedId && !characterHasMemory ? characterKey : $"{characterKey}/as/{hypothesisId}";
    }

    /// <summary>
    /// The pool session of a hypothesis prompt the scene's cast shares: no persona
    /// (<see cref="DialoguePrompt.BuildWithoutPersona"/>) or a nameless rival role (<see cref="DialoguePrompt.BuildAsRole"/>),
    /// the same text up to the name cue for every character who witnessed the same lines. Character keys are
    /// <c>{scene}/{id}</c> and their own hypotheses' <c>{scene}/{id}/as/{hypothesis}</c>, so <c>{scene}/as/{hypothesis}</c>
    /// is no one's.
    /// </summary>
    public static string SharedSessionKey(string sceneKey, string hypothesisId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sceneKey);
        ArgumentException.ThrowIfNullOrEmpty(hypothesisId);
        return $"{sceneKey}/as/{hypothesisId}";
    }

    /// <summary>What the character witnessed before transcript index <paramref name="index"/> (whispers to others left out).</summary>
    public static IEnumerable<SceneLine> WitnessedBefore(IEnumerable<SceneLine> transcript, string characterId, int index)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        return transcript.Where(l => l.Index < index && (l.To is null || l.To == characterId)).OrderBy(l => l.Index);
    }

    /// <summary>
    /// The line as the continuation of its prompt: after the script's name cue with the leading space generation
    /// produced, or as the assistant's reply text in the chat format.
    /// </summary>
    public static string Continuation(SceneLine line, bool chat = false)
    {
        ArgumentNullException.ThrowIfNull(line);
        return chat ? DialoguePrompt.Flatten(line.Text) : " " + DialoguePrompt.Flatten(line.Text);
    }
}
