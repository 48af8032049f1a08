using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Scenarios;

/// <summary>State of a scenario run.</summary>
[GenerateSerializer, Alias("AgentTheater.ScenarioRunState")]
public sealed class ScenarioRunState
{
    /// <summary>The scenario, null before start.</summary>
    [Id(0)] public ScenarioDefinition? Scenario { get; set; }

    /// <summary>Scene replica keys, in order.</summary>
    [Id(1)] public List<string> SceneKeys { get; set; } = [];

    /// <summary>Final status of every ended scene, by key.</summary>
    [Id(2)] public Dictionary<string, SceneStatus> Ended { get; set; } = [];

    /// <summary>Start time.</summary>
    [Id(3)] public DateTimeOffset StartedAt { get; set; }

    /// <summary>True while paused.</summary>
    [Id(4)] public bool Paused { get; set; }

    /// <summary>True once stopped.</summary>
    [Id(5)] public bool Stopped { get; set; }

    /// <summary>Scene replica keys started so far, with when, in the order they started.</summary>
    [Id(6)] public List<SceneStarted> Started { get; set; } = [];

    /// <summary>When the run learnt that each ended scene ended, by key.</summary>
    [Id(7)] public Dictionary<string, DateTimeOffset> EndedAt { get; set; } = [];
}

/// <summary>A scene replica the run started.</summary>
/// <param name="SceneKey">Scene replica key.</param>
/// <param name="At">When.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneStarted")]
public sealed record SceneStarted([property: Id(0)] string SceneKey, [property: Id(1)] DateTimeOffset At);

/// <summary>
/// Plays every scene replica of a scenario and collects their ends. In each replica a scene starts once every scene it
/// comes after (<see cref="SceneDefinition.After"/>) has ended, completed or failed: a failed scene does not hold the
/// story up, its successors play anyway. What was started is persisted before it is started, so a reactivated run starts
/// nothing twice and misses nothing. A timer polls started scenes that have not reported, which also reactivates (and so
/// resumes) scenes whose silo died, and starts successors whose predecessors' ends it finds.
/// </summary>
internal sealed partial class ScenarioRunGrain(
    [PersistentState("run", TheaterStorage.Name)] IPersistentState<ScenarioRunState> state,
    ILogger<ScenarioRunGrain> logger) : Grain, IScenarioRunGrain
{
    private static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Least time between two updates of <see cref="WatchProgress"/>: a large run speaks many lines a second.</summary>
    private static readonly TimeSpan WatchPeriod = TimeSpan.FromMilliseconds(250);

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _poll;
    private long _liveLines;
    private long _liveTokens;
    private Activity? _run;

    /// <summary>The keys of <see cref="ScenarioRunState.Started"/>, built on first use.</summary>
    private HashSet<string>? _startedKeys;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Scenario is not null && state.State.Ended.Count < state.State.SceneKeys.Count)
        {
            StartPolling();
        }

        return Task.CompletedTask;
    }

    public async Task Start(ScenarioDefinition scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (state.State.Scenario is not null)
        {
            return;
        }

        // A card that leaves no room for a line fails here, naming the character, before any scene starts.
        await PromptBudget.CheckAsync(GrainFactory.GetGrain<IInferenceGrain>(0), scenario);
        var runId = this.GetPrimaryKeyString();
        state.State.Scenario = scenario;
        state.State.SceneKeys = [.. scenario.Scenes.SelectMany(scene => Enumerable.Range(0, scenario.Replicas).Select(r => SceneKey(scene.Id, r)))];
        state.State.StartedAt = DateTimeOffset.UtcNow;
        var first = MarkReadyStarted();
        await state.WriteStateAsync();
        var scenes = state.State.SceneKeys.Count;
        await GrainFactory.GetGrain<IRunCatalogGrain>(0).Add(new RunEntry(runId, scenario.Name, scenes, state.State.StartedAt));
        LogRunStarted(logger, runId, scenario.Name, scenes);
        TheaterTelemetry.RunStarted(scenario.Name);

        // The run's span lasts until its last scene ends (SceneEnded or the poll); the scenes' play loops hang from it.
        var caller = Activity.Current;
        _run = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.ScenarioRun)?
            .SetTag(TheaterTelemetry.Attributes.Run, runId)
            .SetTag(TheaterTelemetry.Attributes.Scenario, scenario.Name)
            .SetTag(TheaterTelemetry.Attributes.Scenes, scenes);
        await StartScenes(first);

        // The poll's calls are not part of the run's trace.
        Activity.Current = caller;
        StartPolling();
    }

    public Task LinePlayed(int tokens)
    {
        _liveLines++;
        _liveTokens += tokens;
        Signal();
        return Task.CompletedTask;
    }

    public async Task SceneEnded(SceneStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (RecordEnd(status))
        {
            EndRunSpanWhenDone();
            Signal();
            await state.WriteStateAsync();
            await StartSuccessors(status.SceneKey);
        }
    }

    public Task<RunProgress> GetProgress() => Task.FromResult(Progress());

    public async IAsyncEnumerable<RunProgress> WatchProgress([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.Task;
            var progress = Progress();
            yield return progress;
            if (progress.Done)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
            await Task.Delay(WatchPeriod, cancellationToken);
        }
    }

    public Task<IReadOnlyList<string>> GetSceneKeys() => Task.FromResult<IReadOnlyList<string>>([.. state.State.SceneKeys]);

    public Task<IReadOnlyList<ScenePlay>> GetPlayOrder()
    {
        var scenario = state.State.Scenario;
        var scenes = new Dictionary<string, (string Id, int Replica)>(StringComparer.Ordinal);
        foreach (var scene in scenario?.Scenes ?? [])
        {
            for (var replica = 0; replica < scenario!.Replicas; replica++)
            {
                scenes[SceneKey(scene.Id, replica)] = (scene.Id, replica);
            }
        }

        return Task.FromResult<IReadOnlyList<ScenePlay>>([.. state.State.Started.Select(s => new ScenePlay(
            s.SceneKey,
            scenes[s.SceneKey].Id,
            scenes[s.SceneKey].Replica,
            s.At,
            state.State.EndedAt.TryGetValue(s.SceneKey, out var at) ? at : null,
            state.State.Ended.GetValueOrDefault(s.SceneKey)))]);
    }

    public Task<ScenarioDefinition?> GetScenario() => Task.FromResult(state.State.Scenario);

    public async Task PausePlay()
    {
        if (state.State.Paused || state.State.Stopped)
        {
            return;
        }

        state.State.Paused = true;
        await state.WriteStateAsync();
        await ForEachPlayingScene(scene => scene.PausePlay());
        Signal();
    }

    public async Task ResumePlay()
    {
        if (!state.State.Paused)
        {
            return;
        }

        state.State.Paused = false;
        await state.WriteStateAsync();
        await ForEachPlayingScene(scene => scene.ResumePlay());
        Signal();
        await StartSuccessors();
    }

    public async Task StopPlay()
    {
        if (state.State.Stopped || state.State.Ended.Count >= state.State.SceneKeys.Count)
        {
            return;
        }

        state.State.Stopped = true;
        state.State.Paused = false;

        // A scene that never started ends now, so that the run is done once the playing ones have stopped.
        var started = state.State.Started.Select(s => s.SceneKey).ToHashSet(StringComparer.Ordinal);
        foreach (var key in state.State.SceneKeys.Where(k => !started.Contains(k)))
        {
            RecordEnd(new SceneStatus(key, ScenePhase.Completed, 0, 0, 0, "stopped before it started"));
        }

        EndRunSpanWhenDone();
        await state.WriteStateAsync();
        await ForEachPlayingScene(scene => scene.StopPlay("stopped"));
        Signal();
    }

    private async Task ForEachPlayingScene(Func<ISceneGrain, Task> action)
    {
        foreach (var chunk in state.State.SceneKeys.Where(k => !state.State.Ended.ContainsKey(k)).Chunk(256))
        {
            await Task.WhenAll(chunk.Select(k => action(GrainFactory.GetGrain<ISceneGrain>(k))));
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A run whose grain goes away before its end (silo shutdown) still reports the span it has.
        _run?.SetTag(TheaterTelemetry.Attributes.EndReason, $"deactivated: {reason.Description}").Stop();
        _run = null;
        return Task.CompletedTask;
    }

    private void EndRunSpanWhenDone()
    {
        if (_run is not null && state.State.Ended.Count >= state.State.SceneKeys.Count)
        {
            var ended = state.State.Ended.Values;
            _run.SetTag(TheaterTelemetry.Attributes.EndReason, $"{ended.Count(s => s.Phase == ScenePhase.Completed)} completed, {ended.Count(s => s.Phase == ScenePhase.Failed)} failed");
            _run.Stop();
            _run = null;
        }
    }

    private void StartPolling() =>
        _poll ??= this.RegisterGrainTimer(PollAsync, new GrainTimerCreationOptions(PollPeriod, PollPeriod) { KeepAlive = true });

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        if (state.State.Ended.Count >= state.State.SceneKeys.Count)
        {
            _poll?.Dispose();
            _poll = null;
            return;
        }

        var changed = false;
        var unstarted = new List<string>();
        var pending = state.State.Started.Select(s => s.SceneKey).Where(k => !state.State.Ended.ContainsKey(k)).ToList();
        foreach (var chunk in pending.Chunk(256))
        {
            var statuses = await Task.WhenAll(chunk.Select(k => GrainFactory.GetGrain<ISceneGrain>(k).GetStatus()));
            foreach (var status in statuses)
            {
                if (status.Phase is ScenePhase.Completed or ScenePhase.Failed)
                {
                    changed |= RecordEnd(status);
                }
                else if (status.Phase == ScenePhase.NotStarted)
                {
                    // Recorded as started, but the run grain went away before it started it.
                    unstarted.Add(status.SceneKey);
                }
            }
        }

        if (changed)
        {
            EndRunSpanWhenDone();
            Signal();
            await state.WriteStateAsync(cancellationToken);
        }

        if (!state.State.Stopped)
        {
            await StartScenes(unstarted);
        }

        await StartSuccessors();
    }

    private string SceneKey(string sceneId, int replica) => SceneKeys.Of(this.GetPrimaryKeyString(), sceneId, replica.ToString(CultureInfo.InvariantCulture));

    /// <summary>The scene id and replica of one of this run's scene keys.</summary>
    private static (string SceneId, int Replica) ParseKey(string key)
    {
        var (_, sceneId, replica) = SceneKeys.Parse(key);
        return (sceneId, int.Parse(replica, CultureInfo.InvariantCulture));
    }

    /// <summary>Records a scene's end; false when it was already recorded.</summary>
    private bool RecordEnd(SceneStatus status)
    {
        if (!state.State.Ended.TryAdd(status.SceneKey, status))
        {
            return false;
        }

        state.State.EndedAt[status.SceneKey] = DateTimeOffset.UtcNow;
        return true;
    }

    /// <summary>
    /// Records as started, now, every scene replica not started yet whose predecessors in its replica have all ended, and
    /// returns their keys (the caller writes the state, then starts them).
    /// </summary>
    /// <remarks>
    /// With <paramref name="ended"/>, only that scene's successors in its replica are candidates: a run of many replicas
    /// must not look at every scene for every end.
    /// </remarks>
    private List<string> MarkReadyStarted(string? ended = null)
    {
        var scenario = state.State.Scenario!;
        var started = _startedKeys ??= state.State.Started.Select(s => s.SceneKey).ToHashSet(StringComparer.Ordinal);
        var ready = new List<string>();
        var now = DateTimeOffset.UtcNow;
        var (endedScene, endedReplica) = ended is null ? (null, -1) : ParseKey(ended);
        foreach (var scene in scenario.Scenes)
        {
            if (endedScene is not null && !(scene.After ?? []).Contains(endedScene, StringComparer.Ordinal))
            {
                continue;
            }

            for (var replica = endedScene is null ? 0 : endedReplica; replica < (endedScene is null ? scenario.Replicas : endedReplica + 1); replica++)
            {
                var key = SceneKey(scene.Id, replica);
                if (!started.Contains(key) && !state.State.Ended.ContainsKey(key)
                    && (scene.After ?? []).All(before => state.State.Ended.ContainsKey(SceneKey(before, replica))))
                {
                    ready.Add(key);
                    started.Add(key);
                    state.State.Started.Add(new SceneStarted(key, now));
                }
            }
        }

        return ready;
    }

    /// <summary>
    /// Starts the scenes whose predecessors have all ended (only successors of <paramref name="ended"/> when given),
    /// unless the run is paused or stopped.
    /// </summary>
    private async Task StartSuccessors(string? ended = null)
    {
        if (state.State.Scenario is null || state.State.Paused || state.State.Stopped)
        {
            return;
        }

        var ready = MarkReadyStarted(ended);
        if (ready.Count > 0)
        {
            await state.WriteStateAsync();
            await StartScenes(ready);
            Signal();
        }
    }

    private async Task StartScenes(IReadOnlyList<string> keys)
    {
        var scenario = state.State.Scenario!;
        var runId = this.GetPrimaryKeyString();
        var scenes = scenario.Scenes.ToDictionary(s => s.Id, StringComparer.Ordinal);

        // Start in chunks so a run of thousands of scenes does not flood the silo with activations at once.
        foreach (var chunk in keys.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(key =>
            {
                var (sceneId, replica) = ParseKey(key);
                var scene = scenes[sceneId];
                var cast = scene.Present.Select(scenario.Character).ToList();
                var start = new SceneStart(runId, replica, scene, cast, scenario.Sampling, scenario.Name, scenario.WatchRoles, scenario.PromptFormat, scenario.Memory, StoryKeys.Main(runId, replica), scenario.Carry);
                return GrainFactory.GetGrain<ISceneGrain>(key).Start(start);
            }));
        }
    }

    private RunProgress Progress()
    {
        var ended = state.State.Ended.Values;
        return new RunProgress(
            this.GetPrimaryKeyString(),
            state.State.SceneKeys.Count,
            ended.Count(s => s.Phase == ScenePhase.Completed),
            ended.Count(s => s.Phase == ScenePhase.Failed),
            ended.Sum(s => s.Lines),
            ended.Sum(s => s.Tokens),
            state.State.StartedAt,
            _liveLines,
            _liveTokens,
            state.State.Paused,
            state.State.Stopped);
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Run {RunId} of scenario {Scenario} starts {Scenes} scenes")]
    private static partial void LogRunStarted(ILogger logger, string runId, string scenario, int scenes);
}
