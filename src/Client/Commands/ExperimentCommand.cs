using System.CommandLine;
using System.Diagnostics;
using AgentTheater.Analysis.TwentyQuestions;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Web.Runs;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater experiment twenty-questions</c>: the simulator's superposition, measured.</summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var command = new Command("experiment", "Experiments on the simulator (see docs/twenty-questions.md).");
        command.Subcommands.Add(CreateTwentyQuestions());
        return command;
    }

    private static Command CreateTwentyQuestions()
    {
        var games = new Option<int>("--games") { Description = "Games per condition", DefaultValueFactory = _ => 50 };
        var branches = new Option<int>("--branches") { Description = "Reveal branches forked from each game (1 to 64)", DefaultValueFactory = _ => 8 };
        var questions = new Option<int>("--questions") { Description = "Questions per game before the reveal (1 to 20)", DefaultValueFactory = _ => 8 };
        var committed = new Option<bool>("--committed") { Description = "Play only the committed control: the object is in the answerer's card" };
        var control = new Option<bool>("--control") { Description = "Play the committed control as well as the uncommitted condition" };
        var output = new Option<string>("--out") { Description = "Folder for experiment folders", DefaultValueFactory = _ => "runs" };
        var seed = new Option<long>("--seed") { Description = "Base seed of games, secrets and branches", DefaultValueFactory = _ => 1 };
        var parallel = new Option<int>("--parallel") { Description = "Games played at once (each holds up to a quarter of the pool's sequences while it scores)", DefaultValueFactory = _ => 4 };
        var theaterOptions = TheaterOptions.Embedded(new PoolDefaults(Sequences: 128, Context: 768), "GGUF model (default: the project's model)");
        var command = new Command("twenty-questions", "Play twenty questions, fork each game into branches asked \"what was the object?\", and score every catalogue object as the reveal; writes results.json, results.md and reveals.svg.")
        {
            games, branches, questions, committed, control, output, seed, parallel,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var settings = new TwentyQuestionsSettings(
                CommandErrors.InRange("--games", result.GetValue(games), 1, 10_000),
                CommandErrors.InRange("--branches", result.GetValue(branches), 1, 64),
                CommandErrors.InRange("--questions", result.GetValue(questions), 1, 20),
                result.GetValue(committed) ? [TwentyQuestionsExperiment.Committed]
                    : result.GetValue(control) ? [TwentyQuestionsExperiment.Uncommitted, TwentyQuestionsExperiment.Committed]
                    : [TwentyQuestionsExperiment.Uncommitted],
                result.GetValue(seed),
                CommandErrors.InRange("--parallel", result.GetValue(parallel), 1, 1_000));
            if (result.GetValue(committed) && result.GetValue(control))
            {
                throw new ArgumentException("--committed plays the control alone and --control adds it to the uncommitted condition: give one of them.", "--committed");
            }

            // The experiment plays without role attribution: it measures the simulator, not the detector.
            var theaterSettings = theaterOptions.Read(result) with { Attribution = false };
            var modelPath = DefaultModel.Check(DefaultModel.Resolve(theaterSettings.Model, Directory.GetCurrentDirectory()));
            var experimentId = RunRecord.NewRunId("twenty-questions");
            var folder = new RunFolder(Path.Combine(result.GetValue(output)!, experimentId));
            Directory.CreateDirectory(folder.Path);
            Console.Error.WriteLine($"experiment {experimentId}: {string.Join(" and ", settings.Conditions)}, {settings.Games} games each, {settings.Questions} questions, {settings.Branches} branches");
            Console.Error.WriteLine($"model {modelPath}; results in {folder.Path}");
            var clock = Stopwatch.StartNew();
            await using var theater = await Theater.OpenAsync(theaterSettings, new EmbeddedSilo(modelPath, folder.StatePath), cancellationToken);
            var played = await ConsoleProgress.ShowAsync(progress => new TwentyQuestionsExperiment(theater.Grains, experimentId, settings).PlayAsync(
                progress.Select((ExperimentProgress p) => new ProgressUpdate(p.Games, p.TotalGames, $"games {p.Games}/{p.TotalGames} played, forked and scored")),
                cancellationToken));

            var catalogue = ObjectCatalogue.Default;
            var summaries = settings.Conditions
                .Select(c => TwentyQuestionsSummary.Summarize(catalogue, c, [.. played.Where(g => g.Condition == c)]))
                .ToList();
            var results = new TwentyQuestionsResults(experimentId, modelPath, settings, catalogue.Objects, summaries, played, clock.Elapsed.TotalSeconds);
            var tree = await SceneTree.ReadAsync(theater.Grains, played.Select(g => g.SceneKey), cancellationToken);
            foreach (var scene in SceneTree.Nodes(tree))
            {
                folder.WriteScene(scene.Key, scene.Status, await theater.Grains.GetGrain<ISceneGrain>(scene.Key).GetTranscript());
            }

            folder.WriteText("tree.md", SceneTree.Markdown(experimentId, tree));
            folder.WriteJson("results.json", results);
            folder.WriteText("results.md", TwentyQuestionsReport.Markdown(results));
            folder.WriteText("reveals.svg", TwentyQuestionsPlot.Svg(
                $"Twenty questions on {Path.GetFileName(modelPath)}: {settings.Games} games per condition, {settings.Branches} reveals each",
                [.. summaries.Select(s => new RevealDistribution(s.Condition, s.Distribution))],
                [.. summaries.Select(s => s.Narrowing)]));
            Console.WriteLine(TwentyQuestionsReport.Table(results));
            Console.WriteLine($"results: {Path.Combine(folder.Path, "results.md")}, {Path.Combine(folder.Path, "results.json")}; plot: {Path.Combine(folder.Path, "reveals.svg")}");
            return 0;
        }));
        return command;
    }
}
