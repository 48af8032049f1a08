using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Inference;
using Orleans.Placement;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Characters;

/// <summary>State of a character grain: who it is and what it witnessed (small: text, never the KV cache).</summary>
[GenerateSerializer, Alias("AgentTheater.CharacterState")]
public sealed class CharacterState
{
    /// <summary>Casting, null until joined.</summary>
    [Id(0)] public CharacterCasting? Casting { get; set; }

    /// <summary>Lines seen or heard, in transcript order.</summary>
    [Id(1)] public List<SceneLine> Witnessed { get; set; } = [];

    /// <summary>
    /// With <c>memory: {summary: model}</c>, the character's own summary of the witnessed lines its context budget
    /// dropped; null until the first drop.
    /// </summary>
    [Id(2)] public string? Memory { get; set; }

    /// <summary>Transcript index of the first witnessed line <see cref="Memory"/> does not cover yet.</summary>
    [Id(3)] public int MemoryBefore { get; set; }

    /// <summary>The scenes of its story it played before the one it is in, in order.</summary>
    [Id(4)] public List<PlayedScene> Story { get; set; } = [];

    /// <summary>What it brought into the scene it is in (its first lines in <see cref="Witnessed"/>, at negative indexes).</summary>
    [Id(5)] public CarriedMemory? Carried { get; set; }
}

/// <summary>
/// A character through the scenes of a story (one replica; <see cref="StoryKeys"/>), or in one scene on its own. Asks
/// the pool with its own grain key as the session key, so the pool keeps its dialogue prefix in one sequence and each
/// turn prefills only the lines since its last turn. As it joins its next scene it files the one it leaves under
/// <see cref="CharacterState.Story"/> and brings into the new one what <see cref="CharacterCasting.Carry"/> says: only
/// ever lines it witnessed itself, so a whisper stays with the one it was whispered to. Placed on the silo of its first
/// caller: next to its first scene, and a branch's character next to the character it was copied from, whose pool
/// holds the copied sequence.
/// </summary>
[PreferLocalPlacement]
internal sealed partial class CharacterGrain(
    [PersistentState("character", TheaterStorage.Name)] IPersistentState<CharacterState> state,
    ILogger<CharacterGrain> logger) : Grain, ICharacterGrain
{
    private readonly PromptBudget _budget = new();

    public async Task<CarriedMemory> Join(CharacterCasting casting)
    {
        ArgumentNullException.ThrowIfNull(casting);
        // The same scene and persona is the same casting, whichever copy of it arrives: a casting that crossed silos or
        // came back from storage holds other list instances, so record equality would not see it.
        if (state.State.Casting is { } cast)
        {
            if (cast.Persona.Id != casting.Persona.Id)
            {
                throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} is already cast as {cast.Persona.Id}.");
            }

            if (cast.SceneKey == casting.SceneKey)
            {
                return state.State.Carried ?? CarriedMemory.Nothing;
            }
        }

        if (state.State.Story.Any(s => s.SceneKey == casting.SceneKey))
        {
            throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} already played scene {casting.SceneKey} and has moved on.");
        }

        if (state.State.Casting is { } left)
        {
            state.State.Story.Add(new PlayedScene(left, [.. state.State.Witnessed], state.State.Memory));
        }

        var inference = GrainFactory.Inference(this.GetPrimaryKeyString());
        var carried = casting.Carry switch
        {
            MemoryCarry.Lines => new CarriedMemory(await CarryLinesAsync(inference, casting)),
            MemoryCarry.Summary => new CarriedMemory([], await CarrySummaryAsync(inference, casting)),
            _ => CarriedMemory.Nothing,
        };

        state.State.Casting = casting;
        state.State.Witnessed = [.. carried.Lines];
        state.State.Carried = carried;
        state.State.Memory = casting.Carry switch
        {
            MemoryCarry.Summary => carried.Summary,
            MemoryCarry.Lines => state.State.Memory,
            _ => null,
        };
        state.State.MemoryBefore = carried.Lines.Count > 0 ? carried.Lines[0].Index : 0;
        await state.WriteStateAsync();
        if (state.State.Story.Count > 0)
        {
            LogEntered(logger, casting.Persona.Id, casting.SceneKey, state.State.Story.Count, carried.Lines.Count, carried.Summary is not null);
        }

        return carried;
    }

    public async Task Witness(SceneLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (Add(line))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task<SceneLine> Speak(SpeakRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var casting = state.State.Casting ?? throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} was asked to speak before joining a scene.");
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.CharacterSpeak)?
            .SetTag(TheaterTelemetry.Attributes.Scene, casting.SceneKey)
            .SetTag(TheaterTelemetry.Attributes.Character, casting.Persona.Id)
            .SetTag(TheaterTelemetry.Attributes.Turn, request.Turn)
            .SetTag(TheaterTelemetry.Attributes.Line, request.Index);
        if (state.State.Witnessed.FirstOrDefault(l => l.Index == request.Index) is { } spoken)
        {
            // Asked again (the scene restarted after a failure): the line was already said.
            activity?.SetTag(TheaterTelemetry.Attributes.Resumed, true);
            return spoken;
        }

        // A forced takeover (play_as) speaks from a card swapped to the forced role, in the session attribution keeps for that role.
        var forced = DialoguePrompt.ForcedRole(casting.Persona, request.Turn);
        var speaking = forced is null ? casting : casting with { Persona = DialoguePrompt.AsRole(casting.Persona, forced) };
        var session = forced is null ? this.GetPrimaryKeyString() : RoleHypotheses.SessionKey(this.GetPrimaryKeyString(), RoleHypotheses.WatchId(forced));
        var sampling = casting.Sampling;
        var inference = GrainFactory.Inference(session);
        GenerateReply reply;
        int omitted;
        try
        {
            // The summary is the character's own memory: a forced role speaks from its bare card, without it.
            var memory = forced is null ? state.State.Memory : null;
            (var prompt, omitted) = await _budget.PromptAsync(inference, speaking, state.State.Witnessed, memory: memory);
            if (forced is null && casting.Memory == MemorySummary.Model && await RememberAsync(inference, casting, omitted, cancellationToken))
            {
                (prompt, omitted) = await _budget.PromptAsync(inference, speaking, state.State.Witnessed, memory: state.State.Memory);
            }

            reply = await inference.Generate(
                new GenerateCall(
                    session,
                    prompt.Text,
                    sampling.MaxTokensPerLine,
                    sampling.Temperature,
                    sampling.TopP,
                    sampling.TopK,
                    sampling.RepetitionPenalty,
                    request.Seed,
                    DialoguePrompt.StopStrings(casting),
                    prompt.Messages),
                cancellationToken);
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }

        activity?
            .SetTag(TheaterTelemetry.Attributes.DecodeTokens, reply.Tokens)
            .SetTag(TheaterTelemetry.Attributes.PrefillTokens, reply.PrefillTokens)
            .SetTag(TheaterTelemetry.Attributes.OmittedLines, omitted);
        var line = new SceneLine(
            request.Index,
            request.Turn,
            LineKind.Character,
            casting.Persona.Id,
            casting.Persona.Name,
            DialoguePrompt.Flatten(reply.Text),
            Tokens: reply.Tokens,
            PrefillTokens: reply.PrefillTokens,
            QueueMilliseconds: reply.QueueMilliseconds,
            GenerateMilliseconds: reply.GenerateMilliseconds,
            OmittedLines: omitted);
        Add(line);
        await state.WriteStateAsync(CancellationToken.None);
        LogSpoke(logger, casting.Persona.Id, request.Turn, reply.Tokens, reply.PrefillTokens, reply.PromptTokens);
        return line;
    }

    public async Task<CharacterView> GetView(string? sceneKey = null)
    {
        var (played, casting, witnessed, memory) = AsIn(sceneKey);
        var (prompt, _) = await _budget.PromptAsync(GrainFactory.Inference(this.GetPrimaryKeyString()), casting, witnessed, memory: memory);
        var carried = played == state.State.Story.Count
            ? state.State.Carried ?? CarriedMemory.Nothing
            : new CarriedMemory([.. witnessed.Where(l => l.Index < 0)], casting.Carry == MemoryCarry.Summary && played > 0 ? state.State.Story[played - 1].Memory : null);
        return new CharacterView(casting.Persona, [.. witnessed], prompt.Display, casting.SceneKey, [.. state.State.Story.Take(played).Select(s => s.SceneKey)], carried);
    }

    public async Task<ForkReply> ForkInto(CharacterFork fork)
    {
        ArgumentNullException.ThrowIfNull(fork);

        // The character as it was in the scene forked: the one it is in, or one of its story it has played on from.
        var (played, casting, witnessed, memory) = AsIn(fork.SceneKey);
        var shared = witnessed.Where(l => l.Index < fork.BeforeIndex).ToList();
        var story = state.State.Story.Take(played).ToList();
        var branches = fork.BranchSceneKeys.Select(scene => (Scene: scene, Key: StoryKeys.Character(scene, casting.Persona.Id))).ToList();
        await Task.WhenAll(branches.Select(b => GrainFactory.GetGrain<ICharacterGrain>(b.Key)
            .Adopt(new CharacterCopy(casting with { SceneKey = b.Scene, Sampling = fork.Sampling }, shared, memory, story))));

        // The branches' sessions are their grain keys, as for any character; they share this session's lane, so they
        // reach the pool that holds the sequence being copied.
        var session = this.GetPrimaryKeyString();
        var inference = GrainFactory.Inference(session);
        var (prompt, _) = await _budget.PromptAsync(inference, casting with { Sampling = fork.Sampling }, shared, memory: memory);
        var reply = await inference.Fork(new ForkCall(session, prompt.Text, [.. branches.Select(b => b.Key)], prompt.Messages));
        LogForked(logger, casting.Persona.Id, branches.Count, reply.CopiedTokens, reply.PrefillTokens);
        return reply;
    }

    public async Task Adopt(CharacterCopy copy)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var casting = copy.Casting;
        if (state.State.Casting is { } cast && (cast.SceneKey != casting.SceneKey || cast.Persona.Id != casting.Persona.Id))
        {
            throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} is already cast as {cast.Persona.Id} in {cast.SceneKey}.");
        }

        if (state.State.Casting is not null && state.State.Witnessed.Count >= copy.Witnessed.Count)
        {
            return;
        }

        state.State.Casting = casting;
        state.State.Witnessed = [.. copy.Witnessed.OrderBy(l => l.Index)];
        state.State.Memory = copy.Memory;
        state.State.Story = [.. copy.Story];
        state.State.Carried = new CarriedMemory([.. state.State.Witnessed.Where(l => l.Index < 0)], casting.Carry == MemoryCarry.Summary ? copy.Memory : null);
        state.State.MemoryBefore = state.State.Witnessed.Count > 0 ? Math.Min(0, state.State.Witnessed[0].Index) : 0;
        await state.WriteStateAsync();
    }

    public Task CopyBefore(string sceneId, string targetKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(sceneId);
        ArgumentException.ThrowIfNullOrEmpty(targetKey);
        var past = state.State.Story.TakeWhile(s => StoryKeys.SceneId(s.SceneKey) != sceneId).ToList();
        if (past.Count == state.State.Story.Count && state.State.Casting is { } current && StoryKeys.SceneId(current.SceneKey) != sceneId)
        {
            // It has not reached that scene here: what it is playing now is past there.
            past.Add(new PlayedScene(current, [.. state.State.Witnessed], state.State.Memory));
        }

        return GrainFactory.GetGrain<ICharacterGrain>(targetKey).Seed(past);
    }

    public async Task Seed(IReadOnlyList<PlayedScene> story)
    {
        ArgumentNullException.ThrowIfNull(story);
        if (state.State.Casting is not null || state.State.Story.Count > 0 || story.Count == 0)
        {
            return;
        }

        state.State.Story = [.. story];
        state.State.Memory = story[^1].Memory;
        await state.WriteStateAsync();
    }

    /// <summary>
    /// The character as it was in scene <paramref name="sceneKey"/> of its story (null: the one it is in): where that
    /// scene is in <see cref="CharacterState.Story"/> (its count for the current one), and its casting, witnessed lines
    /// and memory there.
    /// </summary>
    private (int Played, CharacterCasting Casting, IReadOnlyList<SceneLine> Witnessed, string? Memory) AsIn(string? sceneKey)
    {
        var current = state.State.Casting ?? throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} has not joined a scene.");
        var story = state.State.Story;
        if (sceneKey is null || sceneKey == current.SceneKey)
        {
            return (story.Count, current, state.State.Witnessed, state.State.Memory);
        }

        var played = story.FindIndex(s => s.SceneKey == sceneKey);
        return played >= 0
            ? (played, story[played].Casting, story[played].Witnessed, story[played].Memory)
            : throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} was never in scene {sceneKey} (it is in {current.SceneKey}).");
    }

    /// <summary>
    /// The lines it brings into <paramref name="casting"/>'s scene with <see cref="MemoryCarry.Lines"/>: the most recent it
    /// witnessed in the scenes it played (not what it had brought into them) that fit half the room its prompt leaves
    /// for lines, each scene headed by a narrator line with its setting, then one with the new scene's. Indexes run up
    /// to -1.
    /// </summary>
    private async Task<IReadOnlyList<SceneLine>> CarryLinesAsync(IInferenceGrain inference, CharacterCasting casting)
    {
        var earlier = new List<SceneLine>();
        foreach (var scene in state.State.Story)
        {
            var lines = scene.Witnessed.Where(l => l.Index >= 0).ToList();
            if (lines.Count > 0)
            {
                earlier.Add(Narration($"(Earlier: {scene.Casting.Setting})"));
                earlier.AddRange(lines);
            }
        }

        if (earlier.Count == 0)
        {
            return [];
        }

        var first = await _budget.FirstCarriedAsync(inference, casting, earlier);
        var kept = earlier.Skip(first).ToList();
        if (kept.Count == 0)
        {
            return [];
        }

        if (kept[0].Index != int.MinValue)
        {
            // Cut inside a scene: its heading still says where the lines were said.
            kept.Insert(0, earlier.Take(first).Last(l => l.Kind == LineKind.Narrator && l.Index == int.MinValue));
        }

        kept.Add(Narration($"(Now: {casting.Setting})"));
        return [.. kept.Select((l, i) => l with { Index = i - kept.Count })];

        static SceneLine Narration(string text) => new(int.MinValue, 0, LineKind.Narrator, null, DialoguePrompt.NarratorName, text);
    }

    /// <summary>
    /// Its summary of the scenes it played with <see cref="MemoryCarry.Summary"/>: the summary it brought into the last
    /// one, folded with what it witnessed there, written by its own model through the pool.
    /// </summary>
    private async Task<string?> CarrySummaryAsync(IInferenceGrain inference, CharacterCasting casting)
    {
        if (state.State.Story.Count == 0)
        {
            return null;
        }

        var last = state.State.Story[^1];
        var lines = last.Witnessed.Where(l => l.Index >= 0).ToList();
        if (lines.Count == 0)
        {
            return last.Memory;
        }

        return await SummariseAsync(inference, last.Casting with { Sampling = casting.Sampling }, last.Memory, lines, CancellationToken.None);
    }

    /// <summary>
    /// Folds the witnessed lines the budget now leaves out (the first <paramref name="omitted"/>) and are not in the
    /// memory yet into it: the character's own model writes the summary through the pool, in a session of its own, from
    /// the previous summary and those lines. Returns whether the memory changed.
    /// </summary>
    private async Task<bool> RememberAsync(IInferenceGrain inference, CharacterCasting casting, int omitted, CancellationToken cancellationToken)
    {
        var dropped = state.State.Witnessed.Take(omitted).Where(l => l.Index >= state.State.MemoryBefore).ToList();
        if (dropped.Count == 0)
        {
            return false;
        }

        state.State.Memory = await SummariseAsync(inference, casting, state.State.Memory, dropped, cancellationToken);
        state.State.MemoryBefore = dropped[^1].Index + 1;
        return true;
    }

    /// <summary>
    /// The character's own model folds <paramref name="lines"/> into <paramref name="memory"/> (its summary so far)
    /// through the pool, in a session of its own; an empty summary keeps the old one.
    /// </summary>
    private async Task<string?> SummariseAsync(
        IInferenceGrain inference, CharacterCasting casting, string? memory, List<SceneLine> lines, CancellationToken cancellationToken)
    {
        var (text, messages) = await _budget.MemoryPromptAsync(inference, casting, memory, lines);
        var reply = await inference.Generate(
            new GenerateCall($"{this.GetPrimaryKeyString()}/memory", text, PromptBudget.MemoryTokens, 0f, 1f, 0, 1.1f, 0, ["\n"], messages),
            cancellationToken);
        var summary = DialoguePrompt.Flatten(reply.Text);
        LogRemembered(logger, casting.Persona.Id, lines.Count, reply.Tokens);
        return summary.Length > 0 ? summary : memory;
    }

    private bool Add(SceneLine line)
    {
        var lines = state.State.Witnessed;
        if (lines.Any(l => l.Index == line.Index))
        {
            return false;
        }

        lines.Add(line);
        if (lines.Count > 1 && lines[^2].Index > line.Index)
        {
            lines.Sort((a, b) => a.Index.CompareTo(b.Index));
        }

        return true;
    }

    [LoggerMessage(EventId = 3012, Level = LogLevel.Debug, Message = "{Character} entered {Scene} after {Played} scenes, bringing {Lines} lines (summary: {Summary})")]
    private static partial void LogEntered(ILogger logger, string character, string scene, int played, int lines, bool summary);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "{Character} summarised {Lines} dropped lines into its memory ({Tokens} tokens)")]
    private static partial void LogRemembered(ILogger logger, string character, int lines, int tokens);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "{Character} forked into {Branches} branches: {Copied} tokens copied, {Prefill} prefilled")]
    private static partial void LogForked(ILogger logger, string character, int branches, int copied, int prefill);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "{Character} spoke at turn {Turn}: {Tokens} tokens, prefilled {Prefill} of {Prompt} prompt tokens")]
    private static partial void LogSpoke(ILogger logger, string character, int turn, int tokens, int prefill, int prompt);
}
