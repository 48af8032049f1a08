using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Client.Progress;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

using AgentTheater.Web.Runs;

using AgentTheater.Grains.Scenes;

namespace AgentTheater.Client.Runs;

/// <summary>What <c>fork</c> was asked: which scene, where, how many branches, and how they play.</summary>
/// <param name="Scene">The scene's file name (<c>game-0</c>, <c>game-0~0.1</c>) or its key after the run id (<c>game/0</c>).</param>
/// <param name="At">Character turn the branches start at (null: the scene's end).</param>
/// <param name="Branches">Branch scenes to make.</param>
/// <param name="Turns">Turns each branch plays after the fork (null: up to the scene's max turns).</param>
/// <param name="Temperature">Sampling temperature of the branches (null: the scene's).</param>
/// <param name="Seed">Base seed of the branches (null: the scene's).</param>
internal sealed record ForkRequest(string Scene, int? At, int Branches, int? Turns, float? Temperature, long? Seed);

/// <summary>A fork made of a run's scene.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Roots">The run's own scenes (the roots of its tree of forks).</param>
/// <param name="Fork">What the fork made and cost.</param>
/// <param name="MaxTurns">Turns each branch plays up to, the shared ones included.</param>
internal sealed record ForkMade(string RunId, IReadOnlyList<string> Roots, SceneForkResult Fork, int MaxTurns);

/// <summary>Forks a played scene of a run, follows the branches as they play, and writes them into the run folder.</summary>
internal static class SceneForker
{
    /// <summary>
    /// Finds the scene in the run's tree, checks the request against it (errors name the option), and forks it; the
    /// branches start playing at once.
    /// </summary>
    public static async Task<ForkMade> ForkAsync(IGrainFactory grains, RunFolder run, ForkRequest request, CancellationToken cancellationToken)
    {
        var runId = run.RunId;
        var roots = await grains.GetGrain<IScenarioRunGrain>(runId).GetSceneKeys();
        if (roots.Count == 0)
        {
            throw new InvalidDataException($"Run {runId} has no scenes in its state: was it played from this folder (or on this cluster)?");
        }

        var keys = SceneTree.Keys(await SceneTree.ReadAsync(grains, roots, cancellationToken)).ToList();
        var key = keys.FirstOrDefault(k => k == $"{runId}/{request.Scene}" || SceneFiles.Name(k) == request.Scene || k == $"{runId}/{request.Scene}/0")
            ?? throw new ArgumentException($"--scene: no scene '{request.Scene}' in run {runId}; its scenes are {string.Join(", ", keys.Select(SceneFiles.Name))}.", nameof(request));
        var parent = grains.GetGrain<ISceneGrain>(key);
        var status = await parent.GetStatus();
        var atTurn = request.At ?? status.Turns;
        if (atTurn < 0 || atTurn > status.Turns)
        {
            throw new ArgumentException($"--at: scene {SceneFiles.Name(key)} has {status.Turns} character turns: fork at turn 0 to {status.Turns}, not {atTurn}.", nameof(request));
        }

        var start = await parent.GetStart() ?? throw new InvalidDataException($"Scene {key} was never started.");
        var maxTurns = request.Turns is { } more ? atTurn + more : start.Scene.MaxTurns;
        if (maxTurns <= atTurn)
        {
            throw new ArgumentException($"--turns: scene {SceneFiles.Name(key)} plays {start.Scene.MaxTurns} turns, all before the fork at turn {atTurn}; say how many turns the branches play.", nameof(request));
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
            $"fork {fork.Fork} of {SceneFiles.Name(key)} at turn {fork.AtTurn}: {fork.BranchKeys.Count} branches share {fork.SharedLines} lines; {fork.CopiedSequences} sequences copied ({fork.CopiedTokens:N0} tokens), {fork.PrefillTokens:N0} tokens prefilled once"));
        return new ForkMade(runId, roots, fork, maxTurns);
    }

    /// <summary>Follows the branches as they play, reporting turns and ended branches; their final statuses, in branch order.</summary>
    public static Task<SceneStatus[]> PlayAsync(IGrainFactory grains, ForkMade forked, IProgress<ProgressUpdate> progress, CancellationToken cancellationToken)
    {
        var branches = forked.Fork.BranchKeys.Count;
        var turnsEach = forked.MaxTurns - forked.Fork.AtTurn;
        int turns = 0, ended = 0;
        var gate = new Lock();
        Report();
        return SceneWatcher.WaitAsync(
            grains,
            forked.Fork.BranchKeys,
            forked.Fork.SharedLines,
            line =>
            {
                if (line.Kind == LineKind.Character)
                {
                    lock (gate)
                    {
                        turns++;
                        Report();
                    }
                }
            },
            _ =>
            {
                lock (gate)
                {
                    ended++;
                    Report();
                }
            },
            cancellationToken);

        void Report() => progress.Report(new ProgressUpdate(
            ended,
            branches,
            string.Create(CultureInfo.InvariantCulture, $"branches {ended}/{branches} done, turns {turns}/{branches * turnsEach} after the fork")));
    }

    /// <summary>
    /// Writes each branch's transcript, the run's tree of forks (<c>tree.json</c>, <c>tree.md</c>) and, when the run is
    /// attributed, the attribution of every scene in the tree; returns the branches' transcripts.
    /// </summary>
    public static async Task<IReadOnlyList<SceneLine>[]> WriteAsync(
        IGrainFactory grains, RunFolder run, ForkMade forked, SceneStatus[] statuses, CancellationToken cancellationToken)
    {
        var keys = forked.Fork.BranchKeys;
        var transcripts = await Task.WhenAll(keys.Select(k => grains.GetGrain<ISceneGrain>(k).GetTranscript()));
        for (var i = 0; i < keys.Count; i++)
        {
            run.WriteScene(keys[i], statuses[i], transcripts[i]);
        }

        // A branch of a story's scene plays the story's later scenes on in the branch: wait for them, and write them too.
        foreach (var later in (await PlayStoriesAsync(grains, keys, cancellationToken)).Where(n => !keys.Contains(n.Key)))
        {
            run.WriteScene(later.Key, later.Status, await grains.GetGrain<ISceneGrain>(later.Key).GetTranscript());
        }

        var tree = await SceneTree.ReadAsync(grains, forked.Roots, cancellationToken);
        run.WriteJson("tree.json", tree);
        run.WriteText("tree.md", SceneTree.Markdown(forked.RunId, tree));
        var attributions = await Task.WhenAll(SceneTree.Keys(tree).Select(k => grains.GetGrain<ISceneAttributionGrain>(k).GetAttribution()));
        if (attributions.Any(a => a.Enabled))
        {
            run.WriteAttribution(attributions);
        }

        return transcripts;
    }

    /// <summary>
    /// Waits until the stories the branches started have played out (every later scene ended, none left to start) and
    /// returns their scenes; gives up on one whose end never decides its later scenes (its silo died then) after a minute
    /// without change.
    /// </summary>
    private static async Task<IReadOnlyList<SceneNode>> PlayStoriesAsync(IGrainFactory grains, IReadOnlyList<string> branches, CancellationToken cancellationToken)
    {
        var unchanged = Stopwatch.StartNew();
        var seen = "";
        while (true)
        {
            var nodes = SceneTree.Nodes(await SceneTree.ReadAsync(grains, branches, cancellationToken)).ToList();
            var now = string.Join(',', nodes.Select(n => $"{n.Key}:{n.Status.Lines}:{n.Settled}"));
            if (nodes.All(n => n.Settled) || unchanged.Elapsed > TimeSpan.FromMinutes(1))
            {
                return nodes;
            }

            if (now != seen)
            {
                (seen, unchanged) = (now, Stopwatch.StartNew());
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <summary>One row per branch: phase, turns, its first line after the fork and that line's prefill.</summary>
    public static string Table(SceneForkResult fork, SceneStatus[] statuses, IReadOnlyList<SceneLine>[] transcripts)
    {
        var text = new StringBuilder("| branch | phase | turns | first line after the fork | its prefill tokens |\n|---|---|---:|---|---:|\n");
        for (var i = 0; i < statuses.Length; i++)
        {
            var first = transcripts[i].Skip(fork.SharedLines).FirstOrDefault(l => l.Kind == LineKind.Character);
            var line = first is null ? "-" : $"{first.Speaker}: {first.Text}".Replace("|", "\\|", StringComparison.Ordinal);
            text.Append(CultureInfo.InvariantCulture, $"| {SceneFiles.Name(fork.BranchKeys[i])} | {statuses[i].Phase} | {statuses[i].Turns} | {line} | {first?.PrefillTokens.ToString(CultureInfo.InvariantCulture) ?? "-"} |\n");
        }

        return text.ToString();
    }
}
