using System.Diagnostics;
using System.Globalization;
using AgentTheater.Web.Runs;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Benchmarks;

/// <summary>How a benchmarked scene ended.</summary>
/// <param name="Status">The scene's final status (phase, turns, end reason or error).</param>
/// <param name="Transcript">Every line of the scene.</param>
/// <param name="TurnEndSeconds">When each turn's line reached the client, in seconds from the start, by turn.</param>
/// <param name="WallSeconds">From starting the scene to its end.</param>
internal sealed record SceneBenchRun(SceneStatus Status, IReadOnlyList<SceneLine> Transcript, IReadOnlyList<double> TurnEndSeconds, double WallSeconds);

/// <summary>Plays one scene of one replica through a scenario run and follows it line by line (<c>bench scene</c>).</summary>
internal static class SceneBenchmark
{
    /// <summary>
    /// Plays the single scene of <paramref name="scenario"/> (one replica) and waits for it to end, reporting each turn
    /// with the figures of the window it falls in.
    /// </summary>
    public static async Task<SceneBenchRun> PlayAsync(
        IGrainFactory grains, ScenarioDefinition scenario, int window, IProgress<ProgressUpdate> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(progress);
        var scene = scenario.Scenes.Count == 1 && scenario.Replicas == 1
            ? scenario.Scenes[0]
            : throw new ArgumentException("A scene benchmark plays one scene, one replica.", nameof(scenario));
        var clock = Stopwatch.StartNew();
        var run = grains.GetGrain<IScenarioRunGrain>(RunRecord.NewRunId(scenario.Name));
        await Patiently.CallAsync(() => run.Start(scenario), cancellationToken);
        var key = (await Patiently.CallAsync(run.GetSceneKeys, cancellationToken)).Single();
        progress.Report(new ProgressUpdate(0, scene.MaxTurns, $"turn 0/{scene.MaxTurns:N0}: starting"));

        var ends = new List<double>();
        var current = new List<SceneLine>();
        var statuses = await SceneWatcher.WaitAsync(
            grains,
            [key],
            0,
            line =>
            {
                if (line.Kind != LineKind.Character)
                {
                    return;
                }

                while (ends.Count <= line.Turn)
                {
                    ends.Add(clock.Elapsed.TotalSeconds);
                }

                if (line.Turn % window == 0)
                {
                    current.Clear();
                }

                current.Add(line);
                progress.Report(new ProgressUpdate(line.Turn + 1, scene.MaxTurns, Describe(line.Turn + 1, scene.MaxTurns, current)));
            },
            _ => { },
            cancellationToken);
        var transcript = await Patiently.CallAsync(() => grains.GetGrain<ISceneGrain>(key).GetTranscript(), cancellationToken);
        return new SceneBenchRun(statuses[0], transcript, ends, clock.Elapsed.TotalSeconds);
    }

    private static string Describe(int turn, int turns, List<SceneLine> window) => string.Create(
        CultureInfo.InvariantCulture,
        $"turn {turn:N0}/{turns:N0}; this window: {window.Average(l => l.PrefillTokens):N0} prefill tok/line, " +
        $"{window.Average(l => l.QueueMilliseconds + l.GenerateMilliseconds):N0} ms/line, at most {window.Max(l => l.OmittedLines):N0} lines omitted");
}
