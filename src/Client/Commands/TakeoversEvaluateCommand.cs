using System.CommandLine;
using System.Diagnostics;
using AgentTheater.Client.Theater;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Scenarios;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater takeovers evaluate --set FILE</c>: how well takeover detection works, measured on a labelled set (and
/// on forced takeovers): precision, recall, delay, trigger accuracy, and a sweep of the detector's settings.
/// </summary>
internal static class TakeoversEvaluateCommand
{
    public const string ResultFile = "evaluation.json";
    public const string TableFile = "evaluation.md";
    public const string PlotFile = "precision-recall.svg";

    public static Command Create()
    {
        var set = new Option<string>("--set") { Description = "Labelled set (JSONL, tools/model/labelled_takeovers.py; tests/labelled/takeovers.jsonl)", Required = true };
        var model = new Option<string?>("--model") { Description = "GGUF model (default: the project's model)" };
        var output = new Option<string?>("--out") { Description = "Folder for evaluation.json, evaluation.md, precision-recall.svg, the transcripts and attribution (default: runs/<evaluation id>)" };
        var forced = new Option<string?>("--forced") { Description = "Also play this scenario (play_as forced takeovers, e.g. scenarios/forced-takeover.yaml) and measure detection on it" };
        var replicas = new Option<int?>("--replicas") { Description = "Replicas of --forced's scenes (overrides the file)" };
        var forcedRun = new Option<string?>("--forced-run") { Description = "Measure forced takeovers on this finished run folder instead of playing --forced" };
        var sequences = new Option<int>("--sequences") { Description = "Pool sequences (each character keeps one per hypothesis)", DefaultValueFactory = _ => 128 };
        var context = new Option<int>("--context") { Description = "Tokens per sequence", DefaultValueFactory = _ => 1024 };
        var parallel = new Option<int>("--parallel") { Description = "Labelled scenes attributed at once (0: as many as the sequences hold, about 32 sessions a scene)", DefaultValueFactory = _ => 0 };
        var command = new Command("evaluate", "Measure takeover detection on a labelled set: precision, recall, delay, trigger accuracy, forced takeovers, and a sweep of the detector's settings.")
        {
            set, model, output, forced, replicas, forcedRun, sequences, context, parallel,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            // Everything the user gave is checked before anything is written or loaded.
            var setPath = result.GetValue(set)!;
            var labelled = LabelledSet.Load(setPath);
            var forcedPath = result.GetValue(forced);
            var forcedFolder = result.GetValue(forcedRun);
            if (forcedPath is not null && forcedFolder is not null)
            {
                throw new ArgumentException("--forced and --forced-run: give one or the other.", "--forced-run");
            }

            var scenario = forcedPath is null ? null : ScenarioFile.Load(forcedPath);
            if (result.GetValue(replicas) is { } count)
            {
                scenario = scenario is null
                    ? throw new ArgumentException("--replicas needs --forced.", "--replicas")
                    : scenario with { Replicas = CommandErrors.InRange("--replicas", count, 1, 10_000) };
            }

            RunFolder? finished = null;
            if (forcedFolder is not null)
            {
                finished = RunFolder.Open(forcedFolder);
                _ = finished.ReadAttribution() ?? throw new FileNotFoundException($"'{finished.AttributionPath}' does not exist: the run was played without role attribution.", finished.AttributionPath);
                _ = finished.ReadTakeovers();
            }

            var pool = result.GetValue(sequences);
            var inFlight = result.GetValue(parallel);
            if (pool < 1 || inFlight < 0)
            {
                throw new ArgumentException("--sequences must be at least 1 and --parallel at least 0.", pool < 1 ? "--sequences" : "--parallel");
            }

            var modelPath = DefaultModel.Resolve(result.GetValue(model), Directory.GetCurrentDirectory());
            var runId = ScenarioRunner.NewRunId("evaluate");
            var folder = new RunFolder(result.GetValue(output) ?? Path.Combine("runs", runId));
            var state = Path.Combine(Path.GetTempPath(), $"agent-theater-{runId}");
            Directory.CreateDirectory(state);
            try
            {
                Console.Error.WriteLine($"evaluate {setPath}: {labelled.Count} labelled scenes; model {modelPath}; results in {folder.Path}");
                await using var theater = await EmbeddedTheater.StartAsync(
                    new EmbeddedTheaterSettings(modelPath, Path.Combine(state, "state.db"), pool, result.GetValue(context), LogLevel.Warning),
                    cancellationToken);
                var options = theater.Services.GetRequiredService<IOptions<AttributionOptions>>().Value;
                var clock = Stopwatch.StartNew();
                var scenes = await TakeoverEvaluator.AttributeAsync(theater.Grains, labelled, runId, inFlight > 0 ? inFlight : Math.Max(1, pool / 32), cancellationToken);
                var seconds = clock.Elapsed.TotalSeconds;

                ForcedMetrics? forcedMetrics = null;
                if (scenario is not null)
                {
                    finished = new RunFolder(Path.Combine(folder.Path, "forced"));
                    Directory.CreateDirectory(finished.Path);
                    Console.Error.WriteLine($"forced takeovers: {ScenarioFile.Describe(scenario)}");
                    await ScenarioRunner.RunAsync(theater.Grains, scenario, ScenarioRunner.NewRunId(scenario.Name), finished, cancellationToken);
                }

                if (finished is not null)
                {
                    forcedMetrics = ForcedTakeoverEvaluation.Measure(finished.ReadAttribution() ?? [], finished.ReadTakeovers());
                }

                Directory.CreateDirectory(folder.Path);
                TakeoverEvaluator.WriteRun(folder, runId, scenes);
                var evaluation = Evaluate(setPath, modelPath, options, scenes, seconds, forcedMetrics, finished?.Path);
                var table = EvaluationReport.Table(evaluation);
                folder.WriteJson(ResultFile, evaluation);
                folder.WriteText(TableFile, table);
                folder.WriteText(PlotFile, EvaluationReport.Plot(evaluation));
                Console.WriteLine(table);
                Console.WriteLine($"results: {Path.Combine(folder.Path, ResultFile)}, {Path.Combine(folder.Path, PlotFile)}; transcripts with markers: agent-theater takeovers {folder.Path} --transcript");
                return 0;
            }
            finally
            {
                Directory.Delete(state, recursive: true);
            }
        }));
        return command;
    }

    private static EvaluationResult Evaluate(
        string set, string model, AttributionOptions options, IReadOnlyList<EvaluatedScene> scenes, double seconds, ForcedMetrics? forced, string? forcedRun)
    {
        var outcomes = scenes.Select(s => SceneOutcome.Of(s.Scene, [.. s.Attribution.Takeovers.Select(DetectedTakeover.From)])).ToList();
        var used = SettingsUsed.From(options);
        var defaults = SettingsUsed.From(new AttributionOptions());
        var recorded = scenes.Select(s => (s.Scene, (IReadOnlyList<LineAttribution>)s.Attribution.Lines)).ToList();

        // The replay at the run's own settings must find what the grain found, or the sweep would measure something else.
        var replayMatches = scenes.All(s =>
            DetectorSweep.Replay(s.Attribution.Lines, options.Sharpness, options.Detector).Select(t => (t.CharacterId, t.LineIndex, t.DetectedLineIndex))
                .SequenceEqual(s.Attribution.Takeovers.Select(t => (t.CharacterId, t.LineIndex, t.DetectedLineIndex))));
        var sweep = DetectorSweep.Run(recorded).Select((p, i) => SweepRow.From(i + 1, p, defaults, used)).ToList();
        var lines = scenes.SelectMany(s => s.Attribution.Lines).ToList();
        return new EvaluationResult(
            set, model, used, defaults, lines.Count, lines.Count(l => l.Verdict == LineVerdict.Failed), seconds,
            TakeoverEvaluation.Measure(outcomes), replayMatches, forced, forcedRun, sweep, outcomes);
    }
}
