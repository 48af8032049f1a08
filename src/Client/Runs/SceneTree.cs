using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Scenes;

using AgentTheater.Grains.Scenes;

namespace AgentTheater.Client.Runs;

/// <summary>One scene of a run's tree of forks, with the forks made of it.</summary>
/// <param name="Key">Scene grain key.</param>
/// <param name="Status">Where it is.</param>
/// <param name="Origin">Where it was forked from (null for a scene the run started).</param>
/// <param name="Forks">Forks made of it, each with its branches.</param>
/// <param name="Continuations">
/// In a branch's story, the later scenes it started when it ended, each with its own; null while its end has not decided them.
/// </param>
internal sealed record SceneNode(string Key, SceneStatus Status, SceneOrigin? Origin, IReadOnlyList<ForkNode> Forks, IReadOnlyList<SceneNode>? Continuations = null)
{
    /// <summary>Whether the scene and its branch's story have played out: it has ended and started every later scene it could.</summary>
    public bool Settled => Status.Phase is not (ScenePhase.Playing or ScenePhase.NotStarted) && Continuations is not null;
}

/// <summary>One fork and the branch scenes it made.</summary>
/// <param name="Fork">What the fork made and cost.</param>
/// <param name="Branches">The branch scenes, in branch order.</param>
internal sealed record ForkNode(SceneForkResult Fork, IReadOnlyList<SceneNode> Branches);

/// <summary>A run's scenes and every fork of them, read from the grains; written to the run folder as <c>tree.json</c> and <c>tree.md</c>.</summary>
internal static class SceneTree
{
    /// <summary>Reads the tree below each of <paramref name="roots"/> (the run's scenes) from the cluster.</summary>
    public static async Task<IReadOnlyList<SceneNode>> ReadAsync(IGrainFactory grains, IEnumerable<string> roots, CancellationToken cancellationToken)
    {
        var nodes = new List<SceneNode>();
        foreach (var root in roots)
        {
            nodes.Add(await ReadAsync(grains, root, cancellationToken));
        }

        return nodes;
    }

    /// <summary>Every scene in the trees, parents before their branches, each branch before the later scenes of its story.</summary>
    public static IEnumerable<SceneNode> Nodes(IEnumerable<SceneNode> nodes) =>
        nodes.SelectMany(n => Nodes(n.Forks.SelectMany(f => f.Branches).Concat(n.Continuations ?? [])).Prepend(n));

    /// <summary>Every scene key in the trees, parents before their branches.</summary>
    public static IEnumerable<string> Keys(IEnumerable<SceneNode> nodes) => Nodes(nodes).Select(n => n.Key);

    /// <summary>The tree as a nested Markdown list: each scene, each fork (turn, branches, what it copied), each branch.</summary>
    public static string Markdown(string runId, IReadOnlyList<SceneNode> nodes)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"# Scenes of {runId} and their forks\n\n");
        text.Append("Each branch shares its parent's lines before the fork turn; its transcript is `scenes/<file>.md`.\n\n");
        foreach (var node in nodes)
        {
            Append(text, node, 0);
        }

        return text.ToString();
    }

    private static async Task<SceneNode> ReadAsync(IGrainFactory grains, string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var scene = grains.GetGrain<ISceneGrain>(key);
        var lineage = await scene.GetLineage();
        var forks = new List<ForkNode>();
        foreach (var fork in lineage.Forks)
        {
            var branches = new List<SceneNode>();
            foreach (var branch in fork.BranchKeys)
            {
                branches.Add(await ReadAsync(grains, branch, cancellationToken));
            }

            forks.Add(new ForkNode(fork, branches));
        }

        List<SceneNode>? continuations = null;
        if (lineage.Continuations is { } later)
        {
            continuations = [];
            foreach (var next in later)
            {
                continuations.Add(await ReadAsync(grains, next, cancellationToken));
            }
        }

        return new SceneNode(key, await scene.GetStatus(), lineage.Origin, forks, continuations);
    }

    private static void Append(StringBuilder text, SceneNode node, int depth)
    {
        var indent = new string(' ', depth * 4);
        text.Append(CultureInfo.InvariantCulture, $"{indent}- `{SceneFiles.Name(node.Key)}`: {node.Status.Phase}, {node.Status.Turns} turns, {node.Status.Lines} lines ({node.Status.EndReason})\n");
        foreach (var fork in node.Forks)
        {
            var f = fork.Fork;
            text.Append(CultureInfo.InvariantCulture, $"{indent}    - fork {f.Fork} at turn {f.AtTurn}: {f.BranchKeys.Count} branches sharing {f.SharedLines} lines; {f.CopiedSequences} sequences copied ({f.CopiedTokens:N0} tokens), {f.PrefillTokens:N0} tokens prefilled once\n");
            foreach (var branch in fork.Branches)
            {
                Append(text, branch, depth + 2);
            }
        }

        foreach (var next in node.Continuations ?? [])
        {
            text.Append(CultureInfo.InvariantCulture, $"{indent}    - then, in this branch's story:\n");
            Append(text, next, depth + 2);
        }
    }
}
