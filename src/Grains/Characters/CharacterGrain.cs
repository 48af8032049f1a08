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
}

/// <summary>
/// A character in one scene replica. Asks the pool with its own grain key as the session key, so the pool keeps its
/// dialogue prefix in one sequence and each turn prefills only the lines since its last turn. Placed on the silo of
/// its first caller: next to its scene, and a branch's character next to the character it was copied from, whose pool
/// holds the copied sequence.
/// </summary>
[PreferLocalPlacement]
internal sealed partial class CharacterGrain(
    [PersistentState("character", TheaterStorage.Name)] IPersistentState<CharacterState> state,
    ILogger<CharacterGrain> logger) : Grain, ICharacterGrain
{
    private readonly PromptBudget _budget = new();

    public async Task Join(CharacterCasting casting)
    {
        ArgumentNullException.ThrowIfNull(casting);
        // The same scene and persona is the same casting, whichever copy of it arrives: a casting that crossed silos or
        // came back from storage holds other list instances, so record equality would not see it.
        if (state.State.Casting is { } cast && cast.SceneKey == casting.SceneKey && cast.Persona.Id == casting.Persona.Id)
        {
            return;
        }

        if (state.State.Casting is not null)
        {
            throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} is already cast as {state.State.Casting.Persona.Id}.");
        }

        state.State.Casting = casting;
        await state.WriteStateAsync();
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

    public async Task<CharacterView> GetView()
    {
        var casting = state.State.Casting ?? throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} has not joined a scene.");
        var (prompt, _) = await _budget.PromptAsync(GrainFactory.Inference(this.GetPrimaryKeyString()), casting, state.State.Witnessed, memory: state.State.Memory);
        return new CharacterView(casting.Persona, [.. state.State.Witnessed], prompt.Display);
    }

    public async Task<ForkReply> ForkInto(CharacterFork fork)
    {
        ArgumentNullException.ThrowIfNull(fork);
        var casting = state.State.Casting ?? throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} has not joined a scene.");
        var shared = state.State.Witnessed.Where(l => l.Index < fork.BeforeIndex).ToList();
        var branches = fork.BranchSceneKeys.Select(scene => (Scene: scene, Key: $"{scene}/{casting.Persona.Id}")).ToList();
        await Task.WhenAll(branches.Select(b => GrainFactory.GetGrain<ICharacterGrain>(b.Key)
            .Adopt(casting with { SceneKey = b.Scene, Sampling = fork.Sampling }, shared)));

        // The branches' sessions are their grain keys, as for any character; they share this session's lane, so they
        // reach the pool that holds the sequence being copied.
        var session = this.GetPrimaryKeyString();
        var inference = GrainFactory.Inference(session);
        var (prompt, _) = await _budget.PromptAsync(inference, casting with { Sampling = fork.Sampling }, shared, memory: state.State.Memory);
        var reply = await inference.Fork(new ForkCall(session, prompt.Text, [.. branches.Select(b => b.Key)], prompt.Messages));
        LogForked(logger, casting.Persona.Id, branches.Count, reply.CopiedTokens, reply.PrefillTokens);
        return reply;
    }

    public async Task Adopt(CharacterCasting casting, IReadOnlyList<SceneLine> witnessed)
    {
        ArgumentNullException.ThrowIfNull(casting);
        ArgumentNullException.ThrowIfNull(witnessed);
        if (state.State.Casting is { } cast && (cast.SceneKey != casting.SceneKey || cast.Persona.Id != casting.Persona.Id))
        {
            throw new InvalidOperationException($"Character {this.GetPrimaryKeyString()} is already cast as {cast.Persona.Id} in {cast.SceneKey}.");
        }

        if (state.State.Casting is not null && state.State.Witnessed.Count >= witnessed.Count)
        {
            return;
        }

        state.State.Casting = casting;
        state.State.Witnessed = [.. witnessed.OrderBy(l => l.Index)];
        await state.WriteStateAsync();
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

        var session = $"{this.GetPrimaryKeyString()}/memory";
        var (text, messages) = await _budget.MemoryPromptAsync(inference, casting, state.State.Memory, dropped);
        var reply = await inference.Generate(
            new GenerateCall(session, text, PromptBudget.MemoryTokens, 0f, 1f, 0, 1.1f, 0, ["\n"], messages),
            cancellationToken);
        var summary = DialoguePrompt.Flatten(reply.Text);
        state.State.Memory = summary.Length > 0 ? summary : state.State.Memory;
        state.State.MemoryBefore = dropped[^1].Index + 1;
        LogRemembered(logger, casting.Persona.Id, dropped.Count, reply.Tokens);
        return true;
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

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "{Character} summarised {Lines} dropped lines into its memory ({Tokens} tokens)")]
    private static partial void LogRemembered(ILogger logger, string character, int lines, int tokens);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "{Character} forked into {Branches} branches: {Copied} tokens copied, {Prefill} prefilled")]
    private static partial void LogForked(ILogger logger, string character, int branches, int copied, int prefill);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "{Character} spoke at turn {Turn}: {Tokens} tokens, prefilled {Prefill} of {Prompt} prompt tokens")]
    private static partial void LogSpoke(ILogger logger, string character, int turn, int tokens, int prefill, int prompt);
}
