using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Characters;

/// <summary>
/// Keeps a dialogue prompt within what the model can read: the smaller of its training context and the pool's
/// sequence length, less the tokens the line may generate and a safety margin. The pinned part (card, setting, the
/// omitted-lines marker and the name cue) always stays; witnessed lines are dropped oldest first, in chunks
/// (<see cref="ContextWindow"/>). Token counts come from the pool's tokenizer and are remembered per text, so each line
/// is counted once per activation. One per grain activation; not thread-safe (a grain's turns do not overlap).
/// </summary>
public sealed class PromptBudget
{
    /// <summary>Tokens kept free besides the line itself: lines counted one by one can tokenize a little differently in context.</summary>
    private const double MarginShare = 0.04;

    private const int MarginTokens = 4;

    /// <summary>Most tokens a character's summary of its dropped lines takes (<see cref="MemorySummary.Model"/>).</summary>
    public const int MemoryTokens = 48;

    private readonly Dictionary<string, int> _tokens = new(StringComparer.Ordinal);
    private PromptLimits? _limits;

    /// <summary>
    /// The index of the first of <paramref name="lines"/> (each as it appears in the prompt, taking
    /// <paramref name="perLine"/> tokens more) that a prompt whose pinned part is <paramref name="pinned"/> (taking
    /// <paramref name="pinnedExtra"/> tokens more) can keep, leaving <paramref name="lineTokens"/> tokens to generate.
    /// </summary>
    /// <exception cref="PromptBudgetException">The pinned part alone does not fit.</exception>
    public async Task<int> FirstKeptAsync(
        IInferenceGrain inference, string who, string pinned, IReadOnlyList<string> lines, int lineTokens, int perLine = 0, int pinnedExtra = 0)
    {
        var room = await RoomAsync(inference, who, pinned, lines, lineTokens, pinnedExtra);
        return ContextWindow.FirstKept([.. lines.Select(l => _tokens[l] + perLine)], room);
    }

    /// <summary>
    /// Tokens left for lines after a pinned part <paramref name="pinned"/> (taking <paramref name="pinnedExtra"/> tokens
    /// more), leaving <paramref name="lineTokens"/> to generate; counts <paramref name="lines"/> too, so
    /// <see cref="_tokens"/> holds every one of them.
    /// </summary>
    /// <exception cref="PromptBudgetException">The pinned part alone does not fit.</exception>
    private async Task<int> RoomAsync(IInferenceGrain inference, string who, string pinned, IReadOnlyList<string> lines, int lineTokens, int pinnedExtra)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(lines);
        var limits = await LimitsAsync(inference);
        var missing = lines.Prepend(pinned).Where(t => !_tokens.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var counts = await inference.CountTokens(missing);
            for (var i = 0; i < missing.Count; i++)
            {
                _tokens[missing[i]] = counts[i];
            }
        }

        var pinnedTokens = _tokens[pinned] + pinnedExtra;
        var room = Room(limits, pinnedTokens, lineTokens);
        if (room < 0)
        {
            throw new PromptBudgetException(who, pinnedTokens, Usable(limits, lineTokens));
        }

        return room;
    }

    /// <summary>
    /// The prompt <paramref name="casting"/> speaks from after <paramref name="witnessed"/>, within the budget, in the
    /// scenario's prompt format as the pool resolves it: script text, or chat messages. Without
    /// <paramref name="persona"/>, the prompt without a card (attribution's "no role"). Also returns how many of the
    /// oldest lines it left out.
    /// </summary>
    /// <remarks>
    /// With <paramref name="nameless"/> (script format only), the card without the speaker's name and the whole cast
    /// present (<see cref="DialoguePrompt.BuildAsRole"/>): attribution's shared rival roles.
    /// </remarks>
    public async Task<(DialogueRequest Prompt, int Omitted)> PromptAsync(
        IInferenceGrain inference, CharacterCasting casting, IReadOnlyList<SceneLine> witnessed, bool persona = true, string? memory = null, bool nameless = false)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        var limits = await LimitsAsync(inference);
        var chat = limits.Resolve(casting.PromptFormat) == PromptFormatChoice.Chat;
        var who = Who(casting);

        // In chat the system message is pinned and each line is a message of its own, with the template's markers
        // around it. Room for a summary is kept whether or not one was written yet, so writing one never moves the cut.
        // Without a persona the script prompt is shared by the cast up to the name cue, so its cut must not depend on
        // whose cue ends it: the room is counted with the longest name's.
        nameless &= persona && !chat;
        var shared = !chat && (nameless || !persona);
        var empty = Render(shared ? WithLongestCue(casting) : casting, [], omittedEarlier: true, persona, chat, nameless: nameless);
        var first = await FirstKeptAsync(
            inference,
            who,
            chat ? empty.Messages![0].Content : empty.Text,
            [.. witnessed.Select(l => chat ? DialoguePrompt.ChatContent(casting, l) : DialoguePrompt.Line(l))],
            casting.Sampling.MaxTokensPerLine,
            perLine: chat ? limits.ChatMessageTokens : 0,
            pinnedExtra: PinnedExtra(limits, chat, persona ? casting.Memory : MemorySummary.None));

        var kept = first == 0 ? witnessed : [.. witnessed.Skip(first)];
        return (Render(casting, kept, first > 0, persona, chat, memory, nameless), first);
    }

    /// <summary>
    /// The index of the first of <paramref name="earlier"/> (lines from earlier scenes) that <paramref name="casting"/>'s
    /// character brings into its scene: the most recent ones that fit half the room its prompt leaves for lines, so the
    /// scene's own lines have the other half before the window first cuts.
    /// </summary>
    public async Task<int> FirstCarriedAsync(IInferenceGrain inference, CharacterCasting casting, IReadOnlyList<SceneLine> earlier)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(earlier);
        var limits = await LimitsAsync(inference);
        var chat = limits.Resolve(casting.PromptFormat) == PromptFormatChoice.Chat;
        var empty = Render(casting, [], omittedEarlier: true, persona: true, chat);
        var texts = earlier.Select(l => chat ? DialoguePrompt.ChatContent(casting, l) : DialoguePrompt.Line(l)).ToList();
        var pinned = chat ? empty.Messages![0].Content : empty.Text;
        var perLine = chat ? limits.ChatMessageTokens : 0;
        var half = await RoomAsync(inference, Who(casting), pinned, texts, casting.Sampling.MaxTokensPerLine, PinnedExtra(limits, chat, casting.Memory)) / 2;
        var first = earlier.Count;
        for (long used = 0; first > 0 && used + _tokens[texts[first - 1]] + perLine <= half; first--)
        {
            used += _tokens[texts[first - 1]] + perLine;
        }

        return first;
    }

    /// <summary>
    /// The prompt a character's summary of <paramref name="dropped"/> lines is written from (<see cref="DialoguePrompt.BuildMemory"/>),
    /// within the budget too: when the lines do not all fit, the oldest of them are left out of the summary.
    /// </summary>
    public async Task<(string Text, IReadOnlyList<PromptMessage>? Messages)> MemoryPromptAsync(
        IInferenceGrain inference, CharacterCasting casting, string? memory, IReadOnlyList<SceneLine> dropped)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(dropped);
        var chat = await IsChatAsync(inference, casting);
        var limits = await LimitsAsync(inference);
        var empty = DialoguePrompt.BuildMemory(casting, memory, [], chat);
        var pinned = empty.Messages is { } messages ? string.Concat(messages.Select(m => m.Content)) : empty.Text;
        var first = await FirstKeptAsync(
            inference,
            $"The memory of character '{casting.Persona.Id}' ({casting.Persona.Name}) in {casting.SceneKey}",
            pinned,
            [.. dropped.Select(DialoguePrompt.Line)],
            MemoryTokens,
            pinnedExtra: chat ? 3 * limits.ChatMessageTokens : 0);
        return DialoguePrompt.BuildMemory(casting, memory, dropped.Skip(first), chat);
    }

    /// <summary>Whether <paramref name="casting"/> speaks in the chat format on this pool.</summary>
    public async Task<bool> IsChatAsync(IInferenceGrain inference, CharacterCasting casting)
    {
        ArgumentNullException.ThrowIfNull(casting);
        return (await LimitsAsync(inference)).Resolve(casting.PromptFormat) == PromptFormatChoice.Chat;
    }

    /// <summary>Who a prompt is for, as a <see cref="PromptBudgetException"/> names it.</summary>
    private static string Who(CharacterCasting casting) => $"Character '{casting.Persona.Id}' ({casting.Persona.Name}) in {casting.SceneKey}";

    private static CharacterCasting WithLongestCue(CharacterCasting casting) =>
        casting with { Persona = casting.Persona with { Name = casting.CastNames.Append(casting.Persona.Name).OrderByDescending(n => n.Length).ThenBy(n => n, StringComparer.Ordinal).First() } };

    private async Task<PromptLimits> LimitsAsync(IInferenceGrain inference) => _limits ??= await inference.GetPromptLimits();

    private static DialogueRequest Render(
        CharacterCasting casting, IReadOnlyList<SceneLine> lines, bool omittedEarlier, bool persona, bool chat, string? memory = null, bool nameless = false) => chat
        ? new DialogueRequest(string.Empty, persona ? DialoguePrompt.BuildChat(casting, lines, omittedEarlier, memory) : DialoguePrompt.BuildChatWithoutPersona(casting, lines, omittedEarlier))
        : new DialogueRequest(
            nameless ? DialoguePrompt.BuildAsRole(casting, lines, omittedEarlier)
            : persona ? DialoguePrompt.Build(casting, lines, omittedEarlier, memory)
            : DialoguePrompt.BuildWithoutPersona(casting, lines, omittedEarlier),
            null);

    /// <summary>
    /// Every character's pinned prompt part in every scene of <paramref name="scenario"/> (its card, the scene's
    /// setting, the omitted-lines marker and its name cue; in the <paramref name="chat"/> format, the system message):
    /// what must fit before any line does.
    /// </summary>
    public static IReadOnlyList<PinnedPrompt> PinnedPrompts(ScenarioDefinition scenario, bool chat = false)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var pinned = new List<PinnedPrompt>();
        foreach (var scene in scenario.Scenes)
        {
            var names = scene.Present.Select(id => scenario.Character(id).Name).ToList();
            foreach (var id in scene.Present)
            {
                var card = scenario.Character(id);
                var casting = new CharacterCasting(scene.Id, card, scene.Setting, names, scenario.Sampling, scenario.PromptFormat);
                pinned.Add(new PinnedPrompt(scene.Id, card, chat ? DialoguePrompt.BuildChat(casting, [], omittedEarlier: true)[0].Content : DialoguePrompt.Build(casting, [], omittedEarlier: true)));
            }
        }

        return pinned;
    }

    /// <summary>
    /// The first character whose pinned prompt part (counted as <paramref name="pinnedTokens"/>, in the order of
    /// <see cref="PinnedPrompts"/>) leaves no room for a line under <paramref name="limits"/>; null when all fit.
    /// </summary>
    public static string? FindOversized(ScenarioDefinition scenario, IReadOnlyList<PinnedPrompt> pinned, IReadOnlyList<int> pinnedTokens, PromptLimits limits)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(pinned);
        ArgumentNullException.ThrowIfNull(pinnedTokens);
        var usable = Usable(limits, scenario.Sampling.MaxTokensPerLine);
        for (var i = 0; i < pinned.Count; i++)
        {
            if (pinnedTokens[i] > usable)
            {
                var (scene, card, _) = pinned[i];
                return $"scenario '{scenario.Name}', scene '{scene}': character '{card.Id}' ({card.Name}): the card with the setting takes {pinnedTokens[i]} tokens, "
                    + $"but a prompt may hold only {usable} (the model's context of {limits.Tokens} less max_tokens_per_line {scenario.Sampling.MaxTokensPerLine} and a margin); "
                    + "shorten the card or the setting, or lower max_tokens_per_line";
            }
        }

        return null;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when <paramref name="scenario"/> cannot play on the pool: it asks for the
    /// chat format of a model without a chat template, or a character's card and setting alone do not fit (named).
    /// </summary>
    public static async Task CheckAsync(IInferenceGrain inference, ScenarioDefinition scenario)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(scenario);
        var limits = await inference.GetPromptLimits();
        var chat = limits.Resolve(scenario.PromptFormat) == PromptFormatChoice.Chat;
        var pinned = PinnedPrompts(scenario, chat);
        var counts = await inference.CountTokens([.. pinned.Select(p => p.Text)]);
        var extra = PinnedExtra(limits, chat, scenario.Memory);
        if (FindOversized(scenario, pinned, [.. counts.Select(c => c + extra)], limits) is { } error)
        {
            throw new ArgumentException(error, nameof(scenario));
        }
    }

    /// <summary>
    /// Tokens a pinned part takes besides its text (<see cref="PinnedPrompts"/>): in <paramref name="chat"/>, the
    /// template's markers around the system message and the generation prompt; with <paramref name="memory"/>, the room
    /// kept for a summary.
    /// </summary>
    public static int PinnedExtra(PromptLimits limits, bool chat, MemorySummary memory)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return (chat ? 2 * limits.ChatMessageTokens : 0) + (memory == MemorySummary.Model ? MemoryTokens + 8 : 0);
    }

    /// <summary>Tokens the pinned part and the kept lines may take together.</summary>
    public static int Usable(PromptLimits limits, int lineTokens)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var total = limits.Tokens - lineTokens;
        return total - MarginTokens - (int)(total * MarginShare);
    }

    /// <summary>Tokens left for witnessed lines after a pinned part of <paramref name="pinnedTokens"/> (negative when it does not fit).</summary>
    public static int Room(PromptLimits limits, int pinnedTokens, int lineTokens) => Usable(limits, lineTokens) - pinnedTokens;
}

/// <summary>A character's card, with the setting, leaves no room in the prompt for a line.</summary>
public sealed class PromptBudgetException(string who, int pinnedTokens, int usableTokens)
    : InvalidOperationException($"{who}: the card with the setting takes {pinnedTokens} tokens, but a prompt may hold only {usableTokens} (the model's context, less the line's max_tokens_per_line and a margin); shorten the card or the setting, or lower max_tokens_per_line")
{
    /// <summary>Who does not fit.</summary>
    public string Who { get; } = who;

    /// <summary>Tokens the card, the setting and the name cue take.</summary>
    public int PinnedTokens { get; } = pinnedTokens;

    /// <summary>Tokens a prompt may hold.</summary>
    public int UsableTokens { get; } = usableTokens;
}

/// <summary>A character's pinned prompt part in one scene.</summary>
/// <param name="SceneId">The scene.</param>
/// <param name="Card">The character.</param>
/// <param name="Text">Its card, the setting, the omitted-lines marker and its name cue, as the prompt renders them.</param>
public sealed record PinnedPrompt(string SceneId, PersonaCard Card, string Text);

/// <summary>A dialogue prompt as the pool takes it: script text, or chat messages (then <see cref="Text"/> is empty).</summary>
/// <param name="Text">The script-format prompt.</param>
/// <param name="Messages">The chat-format prompt, or null.</param>
public sealed record DialogueRequest(string Text, IReadOnlyList<PromptMessage>? Messages)
{
    /// <summary>The prompt as one text for people to read (a chat prompt as <c>role: content</c> blocks).</summary>
    public string Display => Messages is null ? Text : string.Join("\n\n", Messages.Select(m => $"{m.Role}: {m.Content}"));
}
