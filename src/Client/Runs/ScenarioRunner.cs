using System.Diagnostics;
using System.Globalization;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Web.Runs;

namespace AgentTheater.Client.Runs;

/// <summary>Starts a scenario run on a cluster, shows live progress, and writes every transcript when it ends.</summary>
internal static class ScenarioRunner
{
    public static async Task<RunSummary> RunAsync(
        IGrainFactory grains, ScenarioDefinition scenario, string runId, RunFolder folder, IProgress<ProgressUpdate> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var run = grains.GetGrain<IScenarioRunGrain>(runId);
        await Patiently.CallAsync(() => run.Start(scenario), cancellationToken);
        var ended = await RunRecord.WatchUntilDoneAsync(run, update => progress.Report(Update(update, clock.Elapsed)), Patiently.Retrying, cancellationToken);
        var wall = clock.Elapsed.TotalSeconds;
        return await RunRecord.WriteAsync(grains, scenario, runId, folder, ended, wall, Patiently.Retrying, cancellationToken);
    }

    private static ProgressUpdate Update(RunProgress p, TimeSpan elapsed) => new(
        p.Completed + p.Failed,
        p.Scenes,
        string.Create(CultureInfo.InvariantCulture,
            $"scenes {p.Completed + p.Failed:N0}/{p.Scenes:N0} done ({p.Failed} failed), lines {p.LiveLines:N0}, tokens {p.LiveTokens:N0}, {p.LiveTokens / Math.Max(elapsed.TotalSeconds, 0.001):N0} tok/s"));
}
