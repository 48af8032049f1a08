using System.Diagnostics;
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
}

/// <summary>
/// Starts every scene replica of a scenario and collects their ends. A timer polls scenes that have not reported, which
/// also reactivates (and so resumes) scenes whose silo died.
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
        var starts = new List<(string Key, SceneStart Start)>();
        foreach (var scene in scenario.Scenes)
        {
            var cast = scene.Present.Select(scenario.Character).ToList();
            for (var replica = 0; replica < scenario.Replicas; replica++)
            {
                starts.Add(($"{runId}/{scene.Id}/{replica}", new SceneStart(runId, replica, scene, cast, scenario.Sampling, scenario.Name, scenario.WatchRoles, scenario.PromptFormat, scenario.Memory)));
            }
        }

        state.State.Scenario = scenario;
        state.State.SceneKeys = [.. starts.Select(s => s.Key)];
        state.State.StartedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRunCatalogGrain>(0).Add(new RunEntry(runId, scenario.Name, starts.Count, state.State.StartedAt));
        LogRunStarted(logger, runId, scenario.Name, starts.Count);
        TheaterTelemetry.RunStarted(scenario.Name);

        // The run's span lasts until its last scene ends (SceneEnded or the poll); the scenes' play loops hang from it.
        var caller = Activity.Current;
        _run = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.ScenarioRun)?
            .SetTag(TheaterTelemetry.Attributes.Run, runId)
            .SetTag(TheaterTelemetry.Attributes.Scenario, scenario.Name)
            .SetTag(TheaterTelemetry.Attributes.Scenes, starts.Count);

        // Start in chunks so a run of thousands of scenes does not flood the silo with activations at once.
        foreach (var chunk in starts.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(s => GrainFactory.GetGrain<ISceneGrain>(s.Key).Start(s.Start)));
        }

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
        if (state.State.Ended.TryAdd(status.SceneKey, status))
        {
            EndRunSpanWhenDone();
            Signal();
            await state.WriteStateAsync();
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
    }

    public async Task StopPlay()
    {
        if (state.State.Stopped || state.State.Ended.Count >= state.State.SceneKeys.Count)
        {
            return;
        }

        state.State.Stopped = true;
        state.State.Paused = false;
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
        var pending = state.State.SceneKeys.Where(k => !state.State.Ended.ContainsKey(k)).ToList();
        if (pending.Count == 0)
        {
            _poll?.Dispose();
            _poll = null;
            return;
        }

        var changed = false;
        foreach (var chunk in pending.Chunk(256))
        {
            var statuses = await Task.WhenAll(chunk.Select(k => GrainFactory.GetGrain<ISceneGrain>(k).GetStatus()));
            foreach (var status in statuses.Where(s => s.Phase is ScenePhase.Completed or ScenePhase.Failed))
            {
                changed |= state.State.Ended.TryAdd(status.SceneKey, status);
            }
        }

        if (changed)
        {
            EndRunSpanWhenDone();
            Signal();
            await state.WriteStateAsync(cancellationToken);
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
