using System.Diagnostics;
using System.Runtime.CompilerServices;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Inference;
using AgentTheater.Grains.Scenes.TurnPolicies;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Scenes;

/// <summary>State of a scene: its definition and every line so far (the transcript is the authority).</summary>
[GenerateSerializer, Alias("AgentTheater.SceneState")]
public sealed class SceneState
{
    /// <summary>What was started, null before <see cref="ISceneGrain.Start"/>.</summary>
    [Id(0)] public SceneStart? Start { get; set; }

    /// <summary>Lifecycle phase.</summary>
    [Id(1)] public ScenePhase Phase { get; set; }

    /// <summary>The transcript.</summary>
    [Id(2)] public List<SceneLine> Lines { get; set; } = [];

    /// <summary>Why it ended.</summary>
    [Id(3)] public string? EndReason { get; set; }

    /// <summary>W3C trace context of the call that started the scene: the play loop, resumed or not, continues that trace.</summary>
    [Id(4)] public string? TraceParent { get; set; }

    /// <summary>Where a branch scene was forked from; null for a scene a run started.</summary>
    [Id(5)] public SceneOrigin? Origin { get; set; }

    /// <summary>Forks made of this scene, in order.</summary>
    [Id(6)] public List<SceneForkResult> Forks { get; set; } = [];
}

/// <summary>
/// Plays one scene replica: narration, then turns until max turns or a stop phrase, interventions at their turns,
/// each line broadcast to those who can hear it, the speaker chosen by the scene's <see cref="ITurnPolicy"/>. The loop
/// persists each line before broadcasting it and resumes from the stored transcript when the grain is activated again
/// (after a silo failure), so no line is lost or repeated. Calls to characters are retried through a silo failure (<see cref="ClusterRetry"/>): a character whose silo died comes back
/// elsewhere from storage.
/// </summary>
internal sealed partial class SceneGrain(
    [PersistentState("scene", TheaterStorage.Name)] IPersistentState<SceneState> state,
    TurnPolicyCatalog turnPolicies,
    ILogger<SceneGrain> logger) : Grain, ISceneGrain
{
    private const int CallAttempts = 3;

    /// <summary>Most branches one fork makes (each costs a pool sequence per character).</summary>
    private const int MaxBranches = 64;

    /// <summary>Scenario tag of a scene started on its own, outside a scenario run.</summary>
    private const string UnnamedScenario = "unnamed";

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _attributing = Task.CompletedTask;
    private string? _key;

    private string Key => _key ??= this.GetPrimaryKeyString();

    private SceneStart Definition => state.State.Start ?? throw new InvalidOperationException($"Scene {Key} was not started.");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Phase == ScenePhase.Playing)
        {
            LogResuming(logger, Key, state.State.Lines.Count);
            _ = PlayAsync(resumed: true);
        }

        return Task.CompletedTask;
    }

    public async Task Start(SceneStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (state.State.Phase != ScenePhase.NotStarted)
        {
            return;
        }

        state.State.Start = start;
        state.State.Phase = ScenePhase.Playing;
        state.State.TraceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } caller ? caller.Id : null;
        await state.WriteStateAsync();
        _ = PlayAsync(resumed: false);
    }

    public Task<SceneStatus> GetStatus() => Task.FromResult(Status());

    public Task<IReadOnlyList<SceneLine>> GetTranscript() => Task.FromResult<IReadOnlyList<SceneLine>>([.. state.State.Lines]);

    public async IAsyncEnumerable<SceneLine> Watch(int fromIndex, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var next = Math.Max(0, fromIndex);
        while (true)
        {
            var changed = _changed.Task;
            while (next < state.State.Lines.Count)
            {
                yield return state.State.Lines[next++];
            }

            if (state.State.Phase is ScenePhase.Completed or ScenePhase.Failed)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public async Task<SceneForkResult> Fork(SceneFork fork)
    {
        ArgumentNullException.ThrowIfNull(fork);
        var start = Definition;
        if (state.State.Phase == ScenePhase.Playing)
        {
            throw new InvalidOperationException($"Scene {Key} is still playing: fork it when it has ended.");
        }

        if (fork.Branches is < 1 or > MaxBranches)
        {
            throw new ArgumentOutOfRangeException(nameof(fork), fork.Branches, $"Branches: {fork.Branches} is out of range (1 to {MaxBranches}).");
        }

        var turns = CharacterTurns();
        var at = fork.AtTurn ?? turns;
        if (at < 0 || at > turns)
        {
            throw new ArgumentOutOfRangeException(nameof(fork), at, $"Scene {Key} has {turns} character turns: fork at turn 0 to {turns}, not {at}.");
        }

        var continuation = fork.Continuation ?? start.Scene;
        if (continuation.Setting != start.Scene.Setting || !continuation.Present.SequenceEqual(start.Scene.Present))
        {
            throw new ArgumentException($"A branch of {Key} keeps its setting and the characters present; only turns, stop phrases, interventions and the turn policy may change.", nameof(fork));
        }

        // Every line before turn `at`: narration, and each earlier turn's interventions and character line.
        var shared = state.State.Lines.TakeWhile(l => l.Kind == LineKind.Narrator || l.Turn < at).ToList();
        var number = state.State.Forks.Count;
        var keys = Enumerable.Range(0, fork.Branches).Select(b => $"{Key}~{number}.{b}").ToList();
        var sampling = fork.Sampling ?? start.Sampling;
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.SceneFork)?
            .SetTag(TheaterTelemetry.Attributes.Scene, Key)
            .SetTag(TheaterTelemetry.Attributes.Turn, at)
            .SetTag(TheaterTelemetry.Attributes.Requests, fork.Branches);
        try
        {
            // Characters first: each copies its own state and sequence into every branch, so the branches find their
            // characters ready (and their KV in the pool) when they play.
            var copies = await Task.WhenAll(start.Cast.Select(c => CallWithRetriesAsync(
                "fork",
                c.Id,
                () => Character(c.Id).ForkInto(new CharacterFork(shared.Count, keys, sampling)))));
            await Task.WhenAll(keys.Select((key, b) => GrainFactory.GetGrain<ISceneGrain>(key).StartBranch(new SceneBranchStart(
                start with { Scene = continuation, Sampling = sampling with { Seed = SceneSeeds.Branch(sampling.Seed, number, b) } },
                new SceneOrigin(Key, number, b, at, shared.Count),
                shared))));
            var result = new SceneForkResult(
                number,
                at,
                shared.Count,
                keys,
                copies.Length * keys.Count,
                copies.Sum(c => (long)c.CopiedTokens) * keys.Count,
                copies.Sum(c => (long)c.PrefillTokens),
                DateTimeOffset.UtcNow);
            state.State.Forks.Add(result);
            await state.WriteStateAsync();
            activity?.SetTag(TheaterTelemetry.Attributes.PrefillTokens, result.PrefillTokens);
            LogForked(logger, Key, keys.Count, at, result.CopiedSequences, result.PrefillTokens);
            return result;
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }
    }

    public async Task StartBranch(SceneBranchStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (state.State.Phase != ScenePhase.NotStarted)
        {
            return;
        }

        state.State.Start = start.Start;
        state.State.Origin = start.Origin;
        state.State.Lines = [.. start.SharedLines];
        state.State.Phase = ScenePhase.Playing;
        state.State.TraceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } caller ? caller.Id : null;
        await state.WriteStateAsync();
        Signal();
        _ = PlayAsync(resumed: false);
    }

    public Task<SceneStart?> GetStart() => Task.FromResult(state.State.Start);

    public Task<SceneLineage> GetLineage() => Task.FromResult(new SceneLineage(Key, state.State.Origin, [.. state.State.Forks]));

    private SceneStatus Status() => new(
        Key,
        state.State.Phase,
        state.State.Lines.Count(l => l.Kind == LineKind.Character),
        state.State.Lines.Count,
        state.State.Lines.Sum(l => l.Tokens),
        state.State.EndReason);

    private async Task PlayAsync(bool resumed)
    {
        // Keep the activation while the scene plays: the loop is not a request, so idleness would otherwise collect it.
        DelayDeactivation(TimeSpan.FromDays(1));

        // The loop outlives the call that started it: its span hangs from the stored context, not from whatever call
        // happens to be current (after a failure, the call that reactivated the grain).
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.ScenePlay, ActivityKind.Internal, state.State.TraceParent)?
            .SetTag(TheaterTelemetry.Attributes.Run, Definition.RunId)
            .SetTag(TheaterTelemetry.Attributes.Scenario, Definition.Scenario)
            .SetTag(TheaterTelemetry.Attributes.Scene, Key)
            .SetTag(TheaterTelemetry.Attributes.Resumed, resumed);
        try
        {
            await JoinCastAsync();
            if (resumed && state.State.Lines.Count > 0)
            {
                // The last stored line may not have reached everyone before the failure; witnessing is idempotent.
                await BroadcastAsync(state.State.Lines[^1]);
                await AttributeAsync();
            }

            if (state.State.Lines.Count == 0)
            {
                foreach (var narration in Definition.Scene.Narration)
                {
                    await AddLineAsync(new SceneLine(state.State.Lines.Count, 0, LineKind.Narrator, null, DialoguePrompt.NarratorName, narration));
                }
            }

            while (await PlayTurnAsync())
            {
            }

            activity?.SetTag(TheaterTelemetry.Attributes.EndReason, state.State.EndReason);
        }
        catch (Exception e)
        {
            LogSceneFailed(logger, e, Key);
            activity.RecordError(e);
            try
            {
                await EndAsync(ScenePhase.Failed, e.Message);
            }
            catch (Exception endFailed)
            {
                // Storage or the run grain is unreachable too; the run's poll will find this scene again.
                LogSceneFailed(logger, endFailed, Key);
            }
        }
        finally
        {
            DelayDeactivation(TimeSpan.Zero);
        }
    }

    /// <summary>Plays one character turn (with any interventions due before it); false when the scene has ended.</summary>
    private async Task<bool> PlayTurnAsync()
    {
        var scene = Definition.Scene;
        var turn = CharacterTurns();
        if (turn >= scene.MaxTurns)
        {
            await EndAsync(ScenePhase.Completed, $"max turns ({scene.MaxTurns})");
            return false;
        }

        var started = Stopwatch.GetTimestamp();
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.SceneTurn)?
            .SetTag(TheaterTelemetry.Attributes.Scene, Key)
            .SetTag(TheaterTelemetry.Attributes.Turn, turn);
        foreach (var intervention in scene.Interventions.Where(i => i.Turn == turn))
        {
            if (!state.State.Lines.Any(l => l.Kind == LineKind.Intervention && l.Turn == turn && l.Text == intervention.Text))
            {
                await AddLineAsync(new SceneLine(state.State.Lines.Count, turn, LineKind.Intervention, null, intervention.Speaker, intervention.Text, intervention.To));
            }
        }

        var speaker = await turnPolicies.For(scene.Policy).ChooseSpeakerAsync(new TurnContext(Key, Definition, state.State.Lines, turn, ScoreAsync), CancellationToken.None);
        activity?.SetTag(TheaterTelemetry.Attributes.Character, speaker.Id);
        var request = new SpeakRequest(state.State.Lines.Count, turn, SceneSeeds.Line(Definition.Sampling.Seed, Definition.Replica, turn));
        var line = await CallWithRetriesAsync("speak", speaker.Id, () => Character(speaker.Id).Speak(request));
        await AddLineAsync(line);
        var scenario = Definition.Scenario ?? UnnamedScenario;
        TheaterTelemetry.RecordLine(scenario, speaker.Id, line.Tokens, line.PrefillTokens);
        TheaterTelemetry.TurnDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(TheaterTelemetry.Tags.Scenario, scenario));
        await GrainFactory.GetGrain<IScenarioRunGrain>(Definition.RunId).LinePlayed(line.Tokens);

        // Attribution of this line is scored while the next one is generated, so its prefill shares the decode steps.
        await _attributing;
        _attributing = AttributeAsync();
        if (scene.StopPhrases.FirstOrDefault(p => line.Text.Contains(p, StringComparison.OrdinalIgnoreCase)) is { } phrase)
        {
            await EndAsync(ScenePhase.Completed, $"stop phrase \"{phrase}\"");
            return false;
        }

        return true;
    }

    /// <summary>Scoring for a turn policy that asks the model (the director).</summary>
    private Task<IReadOnlyList<ScoreReply>> ScoreAsync(string session, IReadOnlyList<ScoreCall> calls) =>
        CallWithRetriesAsync("direct", null, () => GrainFactory.Inference(session).Score(calls));

    /// <summary>Attributes the lines spoken so far (an observer: it never throws; when it fails, the scene plays on and the next call catches up).</summary>
    private async Task AttributeAsync()
    {
        try
        {
            await GrainFactory.GetGrain<ISceneAttributionGrain>(Key).Attribute(Definition, [.. state.State.Lines]);
        }
        catch (Exception e)
        {
            LogAttributionFailed(logger, e, Key);
        }
    }

    private async Task AddLineAsync(SceneLine line)
    {
        state.State.Lines.Add(line);
        await state.WriteStateAsync();
        await BroadcastAsync(line);
        Signal();
    }

    private Task BroadcastAsync(SceneLine line)
    {
        var audience = line.To is { } to ? Definition.Cast.Where(c => c.Id == to) : Definition.Cast;
        return Task.WhenAll(audience.Select(c => CallWithRetriesAsync("witness", c.Id, () => Character(c.Id).Witness(line))));
    }

    private async Task JoinCastAsync()
    {
        var start = Definition;
        var names = start.Cast.Select(c => c.Name).ToList();
        await Task.WhenAll(start.Cast.Select(c => CallWithRetriesAsync(
            "join",
            c.Id,
            () => Character(c.Id).Join(new CharacterCasting(Key, c, start.Scene.Setting, names, start.Sampling)))));
    }

    private async Task EndAsync(ScenePhase phase, string reason)
    {
        await _attributing;
        state.State.Phase = phase;
        state.State.EndReason = reason;
        await state.WriteStateAsync();
        Signal();
        LogSceneEnded(logger, Key, phase, reason, state.State.Lines.Count);
        if (state.State.Origin is not null)
        {
            // A branch is not one of its run's scenes: whoever forked it watches it.
            return;
        }

        try
        {
            await CallWithRetriesAsync("report the end", null, () => GrainFactory.GetGrain<IScenarioRunGrain>(Definition.RunId).SceneEnded(Status()));
        }
        catch (Exception e)
        {
            // The end is stored: the run's poll reads it from this scene. Failing here must not turn a completed scene into a failed one.
            LogEndNotReported(logger, e, Key);
        }
    }

    /// <summary>Calls another grain through <see cref="ClusterRetry"/>, each retry logged as this scene's <paramref name="call"/>.</summary>
    private Task<T> CallWithRetriesAsync<T>(string call, string? character, Func<Task<T>> operation) =>
        ClusterRetry.RunAsync(operation, CallAttempts, (e, attempt) => LogCallRetry(logger, e, Key, call, character, attempt));

    /// <inheritdoc cref="CallWithRetriesAsync{T}(string, string?, Func{Task{T}})"/>
    private Task CallWithRetriesAsync(string call, string? character, Func<Task> operation) =>
        ClusterRetry.RunAsync(operation, CallAttempts, (e, attempt) => LogCallRetry(logger, e, Key, call, character, attempt));

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private int CharacterTurns() => state.State.Lines.Count(l => l.Kind == LineKind.Character);

    private ICharacterGrain Character(string id) => GrainFactory.GetGrain<ICharacterGrain>($"{Key}/{id}");

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Scene {Scene} resumes from its stored transcript ({Lines} lines)")]
    private static partial void LogResuming(ILogger logger, string scene, int lines);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Scene {Scene}: {Call} ({Character}) failed (attempt {Attempt}); retrying")]
    private static partial void LogCallRetry(ILogger logger, Exception exception, string scene, string call, string? character, int attempt);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Scene {Scene} failed")]
    private static partial void LogSceneFailed(ILogger logger, Exception exception, string scene);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "Scene {Scene} ended ({Phase}: {Reason}) with {Lines} lines")]
    private static partial void LogSceneEnded(ILogger logger, string scene, ScenePhase phase, string reason, int lines);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Scene {Scene} forked into {Branches} branches at turn {Turn}: {Sequences} sequences copied, {Prefill} tokens prefilled")]
    private static partial void LogForked(ILogger logger, string scene, int branches, int turn, int sequences, long prefill);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "Scene {Scene} ended but could not tell its run; the run's poll will read it")]
    private static partial void LogEndNotReported(ILogger logger, Exception exception, string scene);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Scene {Scene}: role attribution failed; the scene plays on")]
    private static partial void LogAttributionFailed(ILogger logger, Exception exception, string scene);
}
