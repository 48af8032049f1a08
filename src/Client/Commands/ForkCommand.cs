using System.CommandLine;
using System.Globalization;
using System.Text;
using AgentTheater.Client.Theater;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using Microsoft.Extensions.Logging;

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
        var model = new Option<string?>("--model") { Description = "GGUF model of an embedded fork (default: the one the run played with)" };
        var sequences = new Option<int>("--sequences") { Description = "Pool sequences of an embedded fork", DefaultValueFactory = _ => 64 };
        var context = new Option<int>("--context") { Description = "Tokens per sequence of an embedded fork", DefaultValueFactory = _ => 2048 };
        var noAttribution = new Option<bool>("--no-attribution") { Description = "Play the branches without role attribution (embedded silo)" };
        var verbose = new Option<bool>("--verbose") { Description = "Log the silo at Information level" };
        var cluster = new Option<string?>("--cluster") { Description = "The cluster the run played on (ip:port[,ip:port] or redis://host:port); default: the run's own embedded state" };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id of --cluster", DefaultValueFactory = _ => "agent-theater" };
        var serviceId = new Option<string>("--service-id") { Description = "Service id of --cluster", DefaultValueFactory = _ => "agent-theater" };
        var command = new Command("fork", "Fork a played scene into branches that share every line before a turn and play on independently; writes their transcripts and the run's tree of forks (tree.md, tree.json).")
        {
            folder, scene, at, branches, turns, temperature, seed, model, sequences, context, noAttribution, verbose, cluster, clusterId, serviceId,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var run = RunFolder.Open(result.GetValue(folder)!);
            var runId = Path.GetFileName(Path.GetFullPath(run.Path).TrimEnd(Path.DirectorySeparatorChar));
            var count = CommandErrors.InRange("--branches", result.GetValue(branches), 1, 64);

            if (result.GetValue(turns) is < 1)
            {
                throw new ArgumentException($"--turns: {result.GetValue(turns)} is not a positive number of turns.", "--turns");
            }

            var request = new ForkRequest(result.GetValue(scene)!, result.GetValue(at), count, result.GetValue(turns), result.GetValue(temperature), result.GetValue(seed));
            if (result.GetValue(cluster) is { } gateways)
            {
                await using var remote = await RemoteTheater.ConnectAsync(gateways, result.GetValue(clusterId)!, result.GetValue(serviceId)!, cancellationToken);
                return await ForkAsync(remote.Grains, run, runId, request, cancellationToken);
            }

            var database = run.StatePath;
            if (!File.Exists(database))
            {
                throw new FileNotFoundException($"'{database}' does not exist: the run was not played on an embedded silo (fork it with --cluster).", database);
            }

            var info = run.ReadRunInfo();
            var modelPath = DefaultModel.Resolve(result.GetValue(model) ?? info?.Model, Directory.GetCurrentDirectory());
            Console.Error.WriteLine($"fork of {runId}: model {modelPath}; state in {database}");
            await using var theater = await EmbeddedTheater.StartAsync(
                new EmbeddedTheaterSettings(
                    modelPath,
                    database,
                    result.GetValue(sequences),
                    result.GetValue(context),
                    result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning,
                    Attribution: !result.GetValue(noAttribution)),
                cancellationToken);
            return await ForkAsync(theater.Grains, run, runId, request, cancellationToken);
        }));
        return command;
    }

    private static async Task<int> ForkAsync(IGrainFactory grains, RunFolder run, string runId, ForkRequest request, CancellationToken cancellationToken)
    {
        var roots = await grains.GetGrain<IScenarioRunGrain>(runId).GetSceneKeys();
        if (roots.Count == 0)
        {
            throw new InvalidDataException($"Run {runId} has no scenes in its state: was it played from this folder (or on this cluster)?");
        }

        var tree = await SceneTree.ReadAsync(grains, roots, cancellationToken);
        var keys = SceneTree.Keys(tree).ToList();
        var key = keys.FirstOrDefault(k => k == $"{runId}/{request.Scene}" || RunFolder.FileName(k) == request.Scene || k == $"{runId}/{request.Scene}/0")
            ?? throw new ArgumentException($"--scene: no scene '{request.Scene}' in run {runId}; its scenes are {string.Join(", ", keys.Select(RunFolder.FileName))}.", nameof(request));
        var parent = grains.GetGrain<ISceneGrain>(key);
        var status = await parent.GetStatus();
        var atTurn = request.At ?? status.Turns;
        if (atTurn < 0 || atTurn > status.Turns)
        {
            throw new ArgumentException($"--at: scene {RunFolder.FileName(key)} has {status.Turns} character turns: fork at turn 0 to {status.Turns}, not {atTurn}.", nameof(request));
        }

        var start = await parent.GetStart() ?? throw new InvalidDataException($"Scene {key} was never started.");
        var maxTurns = request.Turns is { } more ? atTurn + more : start.Scene.MaxTurns;
        if (maxTurns <= atTurn)
        {
            throw new ArgumentException($"--turns: scene {RunFolder.FileName(key)} plays {start.Scene.MaxTurns} turns, all before the fork at turn {atTurn}; say how many turns the branches play.", nameof(request));
        }

        var sampling = start.Sampling with
        {
            Temperature = request.Temperature ?? start.Sampling.Temperature,
            Seed = request.Seed ?? start.Sampling.Seed,
        };
        SceneForkResult fork;
        try
        {
            fork = await parent.Fork(new SceneFork(request.Branches, atTurn, start.Scene with { MaxTurns = maxTurns }, sampling));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            // The scene's own words: still playing, or a turn it never reached.
            throw new ArgumentException($"--scene {request.Scene}: {e.Message}", e);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fork {fork.Fork} of {RunFolder.FileName(key)} at turn {fork.AtTurn}: {fork.BranchKeys.Count} branches share {fork.SharedLines} lines; {fork.CopiedSequences} sequences copied ({fork.CopiedTokens:N0} tokens), {fork.PrefillTokens:N0} tokens prefilled once"));
        var branches = fork.BranchKeys.Select(k => grains.GetGrain<ISceneGrain>(k)).ToList();
        var statuses = await Task.WhenAll(branches.Select(b => b.GetStatus()));
        while (statuses.Any(s => s.Phase is ScenePhase.Playing or ScenePhase.NotStarted))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            statuses = await Task.WhenAll(branches.Select(b => b.GetStatus()));
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r  branches {statuses.Count(s => s.Phase is ScenePhase.Completed or ScenePhase.Failed)}/{branches.Count} done, turns {statuses.Sum(s => s.Turns)}/{branches.Count * maxTurns}   "));
        }

        Console.Error.WriteLine();
        var transcripts = await Task.WhenAll(branches.Select(b => b.GetTranscript()));
        for (var i = 0; i < branches.Count; i++)
        {
            run.WriteScene(fork.BranchKeys[i], statuses[i], transcripts[i]);
        }

        tree = await SceneTree.ReadAsync(grains, roots, cancellationToken);
        run.WriteJson("tree.json", tree);
        run.WriteText("tree.md", SceneTree.Markdown(runId, tree));
        var attributions = await Task.WhenAll(SceneTree.Keys(tree).Select(k => grains.GetGrain<ISceneAttributionGrain>(k).GetAttribution()));
        if (attributions.Any(a => a.Enabled))
        {
            run.WriteAttribution(attributions);
        }

        Console.WriteLine(Table(fork, statuses, transcripts));
        Console.WriteLine($"transcripts: {run.ScenesPath}; tree of forks: {Path.Combine(run.Path, "tree.md")}");
        return statuses.All(s => s.Phase == ScenePhase.Completed) ? 0 : 1;
    }

    private static string Table(SceneForkResult fork, SceneStatus[] statuses, IReadOnlyList<SceneLine>[] transcripts)
    {
        var text = new StringBuilder("| branch | phase | turns | first line after the fork | its prefill tokens |\n|---|---|---:|---|---:|\n");
        for (var i = 0; i < statuses.Length; i++)
        {
            var first = transcripts[i].Skip(fork.SharedLines).FirstOrDefault(l => l.Kind == LineKind.Character);
            var line = first is null ? "-" : $"{first.Speaker}: {first.Text}".Replace("|", "\\|", StringComparison.Ordinal);
            text.Append(CultureInfo.InvariantCulture, $"| {RunFolder.FileName(fork.BranchKeys[i])} | {statuses[i].Phase} | {statuses[i].Turns} | {line} | {first?.PrefillTokens.ToString(CultureInfo.InvariantCulture) ?? "-"} |\n");
        }

        return text.ToString();
    }

    private sealed record ForkRequest(string Scene, int? At, int Branches, int? Turns, float? Temperature, long? Seed);
}
