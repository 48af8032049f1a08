using System.Collections.Concurrent;
using System.Diagnostics;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Scenarios;
using AgentTheater.Inference.Engine;
using AgentTheater.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentTheater.Web.Runs;

/// <summary>
/// Starts runs sent to the HTTP API and, when each ends, writes its run folder under <see cref="TheaterWebOptions.RunsFolder"/>
/// through <see cref="RunRecord"/>, as <c>agent-theater run</c> does. The process that started a run writes its folder.
/// </summary>
public sealed partial class RunLauncher(
    IGrainFactory grains,
    IOptions<TheaterWebOptions> options,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<RunLauncher> logger)
{
    /// <summary>The name a scenario sent to the API is validated under, and its copy in the run folder.</summary>
    public const string ScenarioFileName = "scenario.yaml";

    /// <summary>Most replicas one run may ask for.</summary>
    public const int MaxReplicas = 100_000;

    private readonly ConcurrentDictionary<string, Task> _recordings = new();

    /// <summary>The run folder of <paramref name="runId"/> under the runs folder (it may not exist).</summary>
    public RunFolder Folder(string runId) => new(Path.Combine(options.Value.RunsFolder, runId));

    /// <summary>
    /// Validates <paramref name="yaml"/>, starts the run and returns its id; its folder is written when it ends.
    /// </summary>
    /// <exception cref="ScenarioValidationException">The scenario has errors (every one, with line and column).</exception>
    /// <exception cref="ArgumentException"><paramref name="replicas"/> is out of range, or a card leaves no room for a line.</exception>
    public async Task<string> StartAsync(string yaml, int? replicas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var scenario = ScenarioFile.Parse(yaml, ScenarioFileName);
        if (replicas is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(replicas));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxReplicas, nameof(replicas));
            scenario = scenario with { Replicas = count };
        }

        var runId = RunRecord.NewRunId(scenario.Name);
        var folder = Folder(runId);
        Directory.CreateDirectory(folder.Path);
        folder.WriteText(ScenarioFileName, yaml);
        folder.WriteRunInfo(new RunInfo(runId, Path.GetFullPath(Path.Combine(folder.Path, ScenarioFileName)), ModelPath(), null));
        var clock = Stopwatch.StartNew();
        try
        {
            await grains.GetGrain<IScenarioRunGrain>(runId).Start(scenario).WaitAsync(cancellationToken);
        }
        catch
        {
            // Nothing played: leave no folder behind for a run that never started.
            Directory.Delete(folder.Path, recursive: true);
            throw;
        }

        LogRunStarted(logger, runId, scenario.Name, folder.Path);
        _recordings[runId] = RecordAsync(runId, scenario, folder, clock, lifetime.ApplicationStopping);
        return runId;
    }

    /// <summary>Waits for the run to end, then writes its folder; a failure is logged, never thrown.</summary>
    private async Task RecordAsync(string runId, ScenarioDefinition scenario, RunFolder folder, Stopwatch clock, CancellationToken stopping)
    {
        try
        {
            var run = grains.GetGrain<IScenarioRunGrain>(runId);
            Action<Exception, int> retrying = (e, attempt) => LogRetrying(logger, e, runId, attempt);
            var ended = await RunRecord.WatchUntilDoneAsync(run, _ => { }, retrying, stopping);
            var summary = await RunRecord.WriteAsync(grains, scenario, runId, folder, ended, clock.Elapsed.TotalSeconds, retrying, stopping);
            LogRunWritten(logger, runId, summary.Completed, summary.Failed, folder.Path);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogRunNotWritten(logger, runId);
        }
        catch (Exception e)
        {
            LogRunWriteFailed(logger, e, runId);
        }
        finally
        {
            _recordings.TryRemove(runId, out _);
        }
    }

    private string? ModelPath() =>
        services.GetService<IServiceProviderIsService>()?.IsService(typeof(InferencePool)) == true
            ? services.GetService<IOptions<InferencePoolOptions>>()?.Value.ModelPath
            : null;

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Run {RunId} of scenario {Scenario} started through the API; its folder is {Folder}")]
    private static partial void LogRunStarted(ILogger logger, string runId, string scenario, string folder);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Run {RunId} ended ({Completed} completed, {Failed} failed); written to {Folder}")]
    private static partial void LogRunWritten(ILogger logger, string runId, int completed, int failed, string folder);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Run {RunId}: the process stops before the run ended; its folder is not written")]
    private static partial void LogRunNotWritten(ILogger logger, string runId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Run {RunId}: writing its folder failed")]
    private static partial void LogRunWriteFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Run {RunId}: the cluster did not answer (attempt {Attempt}); retrying")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string runId, int attempt);
}
