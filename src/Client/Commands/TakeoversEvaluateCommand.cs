using System.CommandLine;
using System.Diagnostics;
using AgentTheater.Analysis.Takeovers;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Web.Runs;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Scenarios;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        var output = new Option<string?>("--out") { Description = "Folder for evaluation.json, evaluation.md, precision-recall.svg, the transcripts and attribution (default: runs/<evaluation id>)" };
        var forced = new Option<string?>("--forced") { Description = "Also play this scenario (play_as forced takeovers, e.g. scenarios/forced-takeover.yaml) and measure detection on it" };
        var replicas = new Option<int?>("--replicas") { Description = "Replicas of --forced's scenes (overrides the file)" };
        var forcedRun = new Option<string?>("--forced-run") { Description = "Measure forced takeovers on this finished run folder instead of playing --forced" };
        var replay = new Option<string?>("--replay") { Description = "Measure again on an earlier evaluation's folder (its attribution.jsonl) at the detector settings configured now, without scoring" };
        var parallel = new Option<int>("--parallel") { Description = "Labelled scenes attributed at once (0: as many as the sequences hold, about 32 sessions a scene)", DefaultValueFactory = _ => 0 };
        var theaterOptions = TheaterOptions.Embedded(new PoolDefaults(Sequences: 128, Context: 1024), "GGUF model (default: the project's model)");
        var command = new Command("evaluate", "Measure takeover detection on a labelled set: precision, recall, delay, trigger accuracy, forced takeovers, and a sweep of the detector's settings.")
        {
            set, output, forced, replicas, forcedRun, replay, parallel,
        };
        theaterOptions.AddTo(command);
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

            if (result.GetValue(replay) is { } earlier)
            {
                if (scenario is not null)
                {
                    throw new ArgumentException("--replay measures recorded scores; --forced would play a scenario: use --forced-run.", "--forced");
                }

                return Replay(RunFolder.Open(earlier), setPath, labelled, finished, result.GetValue(output) ?? Path.Combine("runs", RunRecord.NewRunId("evaluate")));
            }

            var settings = theaterOptions.Read(result);
            var inFlight = result.GetValue(parallel);
            if (settings.Sequences < 1 || inFlight < 0)
            {
                throw new ArgumentException("--sequences must be at least 1 and --parallel at least 0.", settings.Sequences < 1 ? "--sequences" : "--parallel");
            }

            var modelPath = DefaultModel.Resolve(settings.Model, Directory.GetCurrentDirectory());
            var runId = RunRecord.NewRunId("evaluate");
            var folder = new RunFolder(result.GetValue(output) ?? Path.Combine("runs", runId));
            var state = Path.Combine(Path.GetTempPath(), $"agent-theater-{runId}");
            Directory.CreateDirectory(state);
            try
            {
                Console.Error.WriteLine($"evaluate {setPath}: {labelled.Count} labelled scenes; model {modelPath}; results in {folder.Path}");
                await using var theater = await Theater.StartEmbeddedAsync(settings, new EmbeddedSilo(modelPath, Path.Combine(state, "state.db")), cancellationToken);
                var options = theater.Services.GetRequiredService<IOptions<AttributionOptions>>().Value;
                var clock = Stopwatch.StartNew();
                var scenes = await ConsoleProgress.ShowAsync(progress => TakeoverEvaluator.AttributeAsync(
                    theater.Grains,
                    labelled,
                    runId,
                    inFlight > 0 ? inFlight : Math.Max(1, settings.Sequences / 32),
                    progress.Select((EvaluationProgress p) => new ProgressUpdate(p.Scenes, p.TotalScenes, $"scenes {p.Scenes:N0}/{p.TotalScenes:N0} attributed, lines {p.Lines:N0}/{p.TotalLines:N0}")),
                    cancellationToken));
                var seconds = clock.Elapsed.TotalSeconds;

                if (scenario is not null)
                {
                    finished = new RunFolder(Path.Combine(folder.Path, "forced"));
                    Directory.CreateDirectory(finished.Path);
                    Console.Error.WriteLine($"forced takeovers: {ScenarioFile.Describe(scenario)}");
                    await ConsoleProgress.ShowAsync(progress => ScenarioRunner.RunAsync(theater.Grains, scenario, RunRecord.NewRunId(scenario.Name), finished, progress, cancellationToken));
                }

                Directory.CreateDirectory(folder.Path);
                WriteRun(folder, runId, scenes);
                Write(folder, TakeoverEvaluator.Evaluate(setPath, modelPath, options, scenes, seconds, Forced(finished), finished?.Path));
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

    /// <summary>
    /// <c>--replay</c>: the detector and the first stage replayed on an earlier evaluation's recorded scores at the
    /// attribution settings configured now (<c>AGENTTHEATER_Attribution__...</c>), no model loaded.
    /// </summary>
    private static int Replay(RunFolder earlier, string setPath, IReadOnlyList<LabelledScene> labelled, RunFolder? forcedRun, string output)
    {
        var lines = earlier.ReadAttribution() ?? throw new FileNotFoundException($"'{earlier.AttributionPath}' does not exist: not an evaluation folder.", earlier.AttributionPath);
        var options = new AttributionOptions();
        new ConfigurationBuilder().AddEnvironmentVariables(EmbeddedTheater.EnvironmentPrefix).Build().GetSection(AttributionOptions.SectionName).Bind(options);
        options.Validate();
        var byScene = lines.GroupBy(l => l.SceneKey[(l.SceneKey.IndexOf('/', StringComparison.Ordinal) + 1)..]).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var scenes = labelled.Select(scene => byScene.TryGetValue(scene.Id, out var recorded)
            ? new EvaluatedScene(scene, Replayed(recorded, options))
            : throw new InvalidDataException($"'{earlier.AttributionPath}' holds no line of labelled scene '{scene.Id}' of {setPath}.")).ToList();
        var folder = new RunFolder(output);
        Directory.CreateDirectory(folder.Path);
        Write(folder, TakeoverEvaluator.Evaluate(setPath, "(replayed from " + earlier.Path + ")", options, scenes, 0, Forced(forcedRun), forcedRun?.Path));
        return 0;
    }

    /// <summary>Forced takeovers measured on <paramref name="run"/>'s attribution, or null without a forced run.</summary>
    private static ForcedMetrics? Forced(RunFolder? run) =>
        run is null ? null : ForcedTakeoverEvaluation.Measure(run.ReadAttribution() ?? [], run.ReadTakeovers());

    /// <summary>Writes evaluation.json, evaluation.md and the plot into <paramref name="folder"/>, and prints the table.</summary>
    private static void Write(RunFolder folder, EvaluationResult evaluation)
    {
        var table = EvaluationReport.Table(evaluation);
        folder.WriteJson(ResultFile, evaluation);
        folder.WriteText(TableFile, table);
        folder.WriteText(PlotFile, EvaluationReport.Plot(evaluation));
        Console.WriteLine(table);
    }

    /// <summary>A scene's recorded lines with the takeovers the detector finds in them at <paramref name="options"/> (no triggers).</summary>
    private static SceneAttribution Replayed(List<LineAttribution> lines, AttributionOptions options)
    {
        var key = lines[0].SceneKey;
        var takeovers = DetectorSweep.Replay(lines, options.Sharpness, options.Detector, options.Screen ? options.ScreenMargin : null)
            .Select(t => new RoleTakeover(key, t.CharacterId, t.CharacterId, "", "", HypothesisKind.Neutral, t.TakenOverByRole, 0, 0, 0, t.LineIndex, 0, t.DetectedLineIndex, null))
            .ToList();
        return new SceneAttribution(key, true, lines, takeovers, new AttributionCost());
    }

    /// <summary>Writes each labelled scene's transcript and all attribution records into <paramref name="folder"/>, as a run does.</summary>
    private static void WriteRun(RunFolder folder, string runId, IReadOnlyList<EvaluatedScene> scenes)
    {
        foreach (var evaluated in scenes)
        {
            var key = TakeoverEvaluator.SceneKey(runId, evaluated.Scene);
            var transcript = evaluated.Scene.Transcript;
            var status = new SceneStatus(key, ScenePhase.Completed, TakeoverEvaluator.CharacterLines(evaluated.Scene), transcript.Count, 0, "labelled transcript");
            folder.WriteScene(key, status, transcript);
        }

        folder.WriteAttribution([.. scenes.Select(s => s.Attribution)]);
    }
}
