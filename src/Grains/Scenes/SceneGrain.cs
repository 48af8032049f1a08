using System.Diagnostics;
using System.Runtime.CompilerServices;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Scenes.TurnPolicies;
using Microsoft.Extensions.Logging;

using Orleans.Placement;

namespace AgentTheater.Grains.Scenes;

/// <summary>
/// Plays one scene replica: narration, then turns until max turns or a stop phrase, interventions at their turns,
/// each line broadcast to those who can hear it, the speaker chosen by the scene's <see cref="ITurnPolicy"/>. The
/// scene plays on a grain timer, one turn per tick; it persists each line before broadcasting it and resumes from the
/// stored transcript when the grain is activated again (after a silo failure), so no line is lost or repeated. Calls to
/// other grains are retried through a silo failure (<see cref="ClusterRetry"/>): a character whose silo died comes back
/// elsewhere from storage.
/// </summary>
/// <remarks>
/// Placed at random: a run starts its scenes in a burst, and placements that weigh load (resource-optimized, the
/// default, or activation count) see it only through statistics each silo publishes now and then, so a burst can land
/// on the one silo whose figures were known (seen in the failover test: every scene on one of two silos with a model).
/// The scene's characters live with it (<see cref="PreferLocalPlacementAttribute"/>) and use that silo's pool when it
/// has one, so spreading the scenes spreads the cast and its inference.
/// </remarks>
[RandomPlacement]
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
    private Task _saving = Task.CompletedTask;
    private string? _key;

    private string Key => _key ??= this.GetPrimaryKeyString();

    private SceneStart Definition => state.State.Start ?? throw new InvalidOperationException($"Scene {Key} was not started.");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Phase == ScenePhase.Playing && (!state.State.Paused || state.State.StopRequested is not null))
        {
            LogResuming(logger, Key, state.State.Lines.Count);
            Play(resumed: true);
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Deactivated between two turns (its silo shutting down): the next activation resumes it in a new span.
        _playSpan?.SetTag(TheaterTelemetry.Attributes.EndReason, $"deactivated: {reason.Description}").Stop();
        _playSpan = null;
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
        await SaveAsync();
        Play(resumed: false);
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
                () => Character(c.Id).ForkInto(new CharacterFork(shared.Count, keys, sampling, Key)))));
            await Task.WhenAll(keys.Select((key, b) => GrainFactory.GetGrain<ISceneGrain>(key).StartBranch(new SceneBranchStart(
                // A branch is a story of its own: its characters are the copies just made, keyed by the branch's key.
                start with { Scene = continuation, Sampling = sampling with { Seed = SceneSeeds.Branch(sampling.Seed, number, b) }, Story = key, ParentStory = start.Story ?? Key },
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
            await SaveAsync();
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
        await SaveAsync();
        Signal();
        Play(resumed: false);
    }

    public Task<SceneStart?> GetStart() => Task.FromResult(state.State.Start);

    public Task<SceneLineage> GetLineage() =>
        Task.FromResult(new SceneLineage(
            Key,
            state.State.Origin,
            [.. state.State.Forks],
            state.State.Start?.Story,
            state.State.Continued || state.State.Start?.ParentStory is null ? [.. state.State.Continuations] : null));

    public async Task<int> Intervene(SceneIntervention intervention)
    {
        ArgumentNullException.ThrowIfNull(intervention);
        var start = Definition;
        if (state.State.Phase != ScenePhase.Playing)
        {
            throw new InvalidOperationException($"Scene {Key} has ended ({state.State.EndReason}): an intervention needs a playing scene.");
        }

        if (string.IsNullOrWhiteSpace(intervention.Speaker) || intervention.Speaker.Length > SceneIntervention.MaxSpeakerLength || intervention.Speaker.Any(char.IsControl))
        {
            throw new ArgumentException($"speaker: give a name of 1 to {SceneIntervention.MaxSpeakerLength} characters on one line.", nameof(intervention));
        }

        if (string.IsNullOrWhiteSpace(intervention.Text) || intervention.Text.Length > SceneIntervention.MaxTextLength)
        {
            throw new ArgumentException($"text: give 1 to {SceneIntervention.MaxTextLength} characters (got {intervention.Text?.Length ?? 0}).", nameof(intervention));
        }

        if (intervention.To is { } to && start.Cast.All(c => c.Id != to))
        {
            throw new ArgumentException($"to: '{to}' is not present in scene {Key} (present: {string.Join(", ", start.Cast.Select(c => c.Id))}).", nameof(intervention));
        }

        // A turn past its interventions is generating its line: this one is spoken before the next. Read with the
        // queue's change, before the write lets the play loop move on.
        var turn = _speaking is { } speaking ? speaking + 1 : CharacterTurns();
        if (turn >= start.Scene.MaxTurns || state.State.StopRequested is not null)
        {
            throw new InvalidOperationException($"Scene {Key} is playing its last turn ({start.Scene.MaxTurns} at most, or stopped): no turn is left to speak an intervention before.");
        }

        // One line: a line break would let the text pose as another speaker in every prompt that witnesses it.
        state.State.PendingInterventions.Add(intervention with { Text = string.Join(' ', intervention.Text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) });
        await SaveAsync();
        return turn;
    }

    public async Task PausePlay()
    {
        if (state.State.Phase != ScenePhase.Playing || state.State.Paused)
        {
            return;
        }

        state.State.Paused = true;
        await SaveAsync();
        Signal();
    }

    public async Task ResumePlay()
    {
        if (state.State.Phase != ScenePhase.Playing || !state.State.Paused)
        {
            return;
        }

        state.State.Paused = false;
        await SaveAsync();
        Signal();
        Play(resumed: state.State.Lines.Count > 0);
    }

    public async Task StopPlay(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (state.State.Phase != ScenePhase.Playing || state.State.StopRequested is not null)
        {
            return;
        }

        state.State.StopRequested = reason;
        await SaveAsync();
        // The next tick ends it. A paused scene has no timer, so this starts one (Play does nothing while one runs).
        // Ending it here instead would report the end to the run from inside the run's own StopPlay, which waits for
        // this call: a deadlock.
        Play(resumed: state.State.Lines.Count > 0);
    }

    private SceneStatus Status() => new(
        Key,
        state.State.Phase,
        state.State.Lines.Count(l => l.Kind == LineKind.Character),
        state.State.Lines.Count,
        state.State.Lines.Sum(l => l.Tokens),
        state.State.EndReason,
        state.State.Paused && state.State.Phase == ScenePhase.Playing);

    /// <summary>Calls another grain through <see cref="ClusterRetry"/>, each retry logged as this scene's <paramref name="call"/>.</summary>
    private Task<T> CallWithRetriesAsync<T>(string call, string? character, Func<Task<T>> operation) =>
        ClusterRetry.RunAsync(operation, CallAttempts, (e, attempt) => LogCallRetry(logger, e, Key, call, character, attempt));

    /// <inheritdoc cref="CallWithRetriesAsync{T}(string, string?, Func{Task{T}})"/>
    private Task CallWithRetriesAsync(string call, string? character, Func<Task> operation) =>
        ClusterRetry.RunAsync(operation, CallAttempts, (e, attempt) => LogCallRetry(logger, e, Key, call, character, attempt));

    /// <summary>
    /// Writes the state after any write in flight. The play timer interleaves with the grain's calls, so an
    /// intervention, pause or stop can change the state while a turn's write is out; two writes sent at once would
    /// carry the same ETag and the second would fail (failing the scene, or the caller). Each write takes the state as
    /// it is when its turn comes, so it carries every change made before it.
    /// </summary>
    private Task SaveAsync()
    {
        var write = WriteAfterAsync(_saving);
        _saving = write;
        return write;

        async Task WriteAfterAsync(Task previous)
        {
            try
            {
                await previous;
            }
            catch (Exception)
            {
                // The earlier write's caller sees its failure; this write tries again with the state as it is now.
            }

            await state.WriteStateAsync();
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private int CharacterTurns() => state.State.Lines.Count(l => l.Kind == LineKind.Character);

    private ICharacterGrain Character(string id) => GrainFactory.GetGrain<ICharacterGrain>(Definition.CharacterKey(Key, id));

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Scene {Scene} resumes from its stored transcript ({Lines} lines)")]
    private static partial void LogResuming(ILogger logger, string scene, int lines);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Scene {Scene}: {Call} ({Character}) failed (attempt {Attempt}); retrying")]
    private static partial void LogCallRetry(ILogger logger, Exception exception, string scene, string call, string? character, int attempt);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Scene {Scene} forked into {Branches} branches at turn {Turn}: {Sequences} sequences copied, {Prefill} tokens prefilled")]
    private static partial void LogForked(ILogger logger, string scene, int branches, int turn, int sequences, long prefill);
}
