using System.CommandLine;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Web.Runs;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater fork RUN --scene S --at TURN --branches K</c>: branch a played scene and play the branches.</summary>
internal static class ForkCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("run") { Description = "A run folder written by 'run' (runs/<run id>)" };
        var scene = new Option<string>("--scene") { Description = "Scene to fork: its file name under scenes/ (e.g. game-0, game-0~0.1) or its key after the run id (game/0)", Required = true };
        var at = new Option<int?>("--at") { Description = "Character turn the branches start at: they share every line before it (default: the scene's end)" };
        var branches = new Option<int>("--branches") { Description = "Branch scenes to make (1 to 64)", DefaultValueFactory = _ => 4 };
        var turns = new Option<int?>("--turns") { Description = "Character turns each branch plays after the fork (default: up to the scene's max turns)" };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature of the branches (default: the scene's)" };
        var seed = new Option<long?>("--seed") { Description = "Base seed of the branches; each branch gets its own seed from it (default: the scene's)" };
        var theaterOptions = TheaterOptions.EmbeddedOrCluster(
            new PoolDefaults(Sequences: 64, Context: 2048),
            "GGUF model of an embedded fork (default: the one the run played with)");
        var command = new Command("fork", "Fork a played scene into branches that share every line before a turn and play on independently; writes their transcripts and the run's tree of forks (tree.md, tree.json).")
        {
            folder, scene, at, branches, turns, temperature, seed,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var run = RunFolder.Open(result.GetValue(folder)!);
            var count = CommandErrors.InRange("--branches", result.GetValue(branches), 1, 64);
            if (result.GetValue(turns) is < 1)
            {
                throw new ArgumentException($"--turns: {result.GetValue(turns)} is not a positive number of turns.", "--turns");
            }

            var request = new ForkRequest(result.GetValue(scene)!, result.GetValue(at), count, result.GetValue(turns), result.GetValue(temperature), result.GetValue(seed));
            var settings = theaterOptions.Read(result);
            EmbeddedSilo? silo = null;
            if (settings.Cluster is null)
            {
                // An embedded fork reopens the run's own state, with the model it played.
                if (!File.Exists(run.StatePath))
                {
                    throw new FileNotFoundException($"'{run.StatePath}' does not exist: the run was not played on an embedded silo (fork it with --cluster).", run.StatePath);
                }

                var model = DefaultModel.Check(DefaultModel.Resolve(settings.Model ?? run.ReadRunInfo()?.Model, Directory.GetCurrentDirectory()));
                Console.Error.WriteLine($"fork of {run.RunId}: model {model}; state in {run.StatePath}");
                silo = new EmbeddedSilo(model, run.StatePath);
            }

            await using var theater = await Theater.OpenAsync(settings, silo, cancellationToken);
            var forked = await SceneForker.ForkAsync(theater.Grains, run, request, cancellationToken);
            var statuses = await ConsoleProgress.ShowAsync(progress => SceneForker.PlayAsync(theater.Grains, forked, progress, cancellationToken));
            var transcripts = await SceneForker.WriteAsync(theater.Grains, run, forked, statuses, cancellationToken);
            Console.WriteLine(SceneForker.Table(forked.Fork, statuses, transcripts));
            Console.WriteLine($"transcripts: {run.ScenesPath}; tree of forks: {Path.Combine(run.Path, "tree.md")}");
            return statuses.All(s => s.Phase == Contracts.Scenes.ScenePhase.Completed) ? 0 : 1;
        }));
        return command;
    }
}
