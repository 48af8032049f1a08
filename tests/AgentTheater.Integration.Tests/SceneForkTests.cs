using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Integration.Tests;

/// <summary>Forking a played scene on the two-silo cluster: shared lines, copied sequences, independent branches.</summary>
public sealed class SceneForkTests(TheaterClusterFixture fixture)
{
    private static readonly PersonaCard Marta = new("innkeeper", "Marta", "the innkeeper", ["keep the peace"], [], "warm and blunt");
    private static readonly PersonaCard Quill = new("clerk", "Quillon", "a tax clerk", ["find the ledger"], [], "dry, precise");
    private static readonly PersonaCard Bo = new("bard", "Bartholomew", "a travelling bard", ["earn a coin"], [], "sings his sentences");
    private static readonly SamplingSettings Warm = new(Temperature: 0.9f, Seed: 7, MaxTokensPerLine: 10);
    private static readonly SamplingSettings Greedy = new(Temperature: 0, Seed: 7, MaxTokensPerLine: 10);
    private static readonly SamplingSettings Hot = new(Temperature: 1.5f, TopP: 1, TopK: 0, RepetitionPenalty: 1, Seed: 7, MaxTokensPerLine: 10);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fork_AtTheEnd_BranchesShareTheParentsLines_AndStartFromCopiedSequences()
    {
        var scene = Scene(turns: 4);
        var (key, parent) = await PlayAsync(scene, Warm);
        var forkedBefore = Pools().Sum(p => p.Statistics.ForkedSequences);

        var fork = await Grain(key).Fork(new SceneFork(3, Continuation: scene with { MaxTurns = 7 }));

        Assert.Equal(0, fork.Fork);
        Assert.Equal(4, fork.AtTurn);
        Assert.Equal(parent.Count, fork.SharedLines);
        Assert.Equal([$"{key}~0.0", $"{key}~0.1", $"{key}~0.2"], fork.BranchKeys);
        Assert.Equal(9, fork.CopiedSequences);
        Assert.Equal(9, Pools().Sum(p => p.Statistics.ForkedSequences) - forkedBefore);
        foreach (var branchKey in fork.BranchKeys)
        {
            var branch = await WaitAsync(branchKey);
            Assert.Equal(parent.Select(Describe), branch.Take(parent.Count).Select(Describe));
            Assert.Equal(7, branch.Count(l => l.Kind == LineKind.Character));

            // The first speaker's prompt is exactly the copied sequence: only the one token whose logits start the line is decoded.
            Assert.Equal(1, branch[parent.Count].PrefillTokens);
            var lineage = await Grain(branchKey).GetLineage();
            Assert.Equal(new SceneOrigin(key, 0, fork.BranchKeys.ToList().IndexOf(branchKey), 4, parent.Count), lineage.Origin);
        }

        var parentLineage = await Grain(key).GetLineage();
        Assert.Null(parentLineage.Origin);
        Assert.Equal(fork.BranchKeys, Assert.Single(parentLineage.Forks).BranchKeys);
        Assert.Equal(parent.Count, (await Grain(key).GetTranscript()).Count);
    }

    [Fact]
    public async Task Fork_AtAnEarlierTurn_SharesOnlyTheLinesBeforeIt_AndTheCharactersForgetTheRest()
    {
        var scene = Scene(turns: 5);
        var (key, parent) = await PlayAsync(scene, Warm);

        var fork = await Grain(key).Fork(new SceneFork(2, AtTurn: 2));

        var shared = parent.TakeWhile(l => l.Kind == LineKind.Narrator || l.Turn < 2).ToList();
        Assert.Equal(shared.Count, fork.SharedLines);
        foreach (var branchKey in fork.BranchKeys)
        {
            var branch = await WaitAsync(branchKey);
            Assert.Equal(shared.Select(Describe), branch.Take(shared.Count).Select(Describe));
            Assert.Equal(5, branch.Count(l => l.Kind == LineKind.Character));
            Assert.Equal(1, branch[shared.Count].PrefillTokens);
            var view = await fixture.Client.GetGrain<ICharacterGrain>($"{branchKey}/innkeeper").GetView();
            Assert.Equal(branch.Select(Describe), view.Witnessed.Select(Describe));
        }
    }

    [Fact]
    public async Task Fork_GreedyBranches_SpeakTheSameLines_SampledBranchesDiffer()
    {
        var scene = Scene(turns: 3);
        var (key, parent) = await PlayAsync(scene, Greedy);
        var more = scene with { MaxTurns = 5 };

        // The greedy branches play with nothing else on the pool: batched with other sequences, llama.cpp's sums change
        // in their last bits, and where the tiny model's two best tokens are all but tied, greedy may take either.
        var greedy = await Grain(key).Fork(new SceneFork(3, Continuation: more, Sampling: Greedy));
        var greedyLines = await Task.WhenAll(greedy.BranchKeys.Select(async b => string.Join('\n', (await WaitAsync(b)).Skip(parent.Count).Select(Describe))));
        var hot = await Grain(key).Fork(new SceneFork(4, Continuation: more, Sampling: Hot));
        var hotLines = await Task.WhenAll(hot.BranchKeys.Select(async b => string.Join('\n', (await WaitAsync(b)).Skip(parent.Count).Select(Describe))));
        Assert.Single(greedyLines.Distinct());
        Assert.True(hotLines.Distinct().Count() > 1, $"4 sampled branches all said:\n{hotLines[0]}");
        Assert.Equal(1, hot.Fork);
        Assert.Equal(2, (await Grain(key).GetLineage()).Forks.Count);
    }

    [Fact]
    public async Task Fork_Branches_DecodeInTheSameBatches()
    {
        var scene = Scene(turns: 2);
        var (key, _) = await PlayAsync(scene, Warm);
        var widest = 0;
        void OnStep(PoolStep step) => widest = Math.Max(widest, step.DecodeTokens);
        foreach (var pool in Pools())
        {
            pool.StepCompleted += OnStep;
        }

        try
        {
            // Eight branches: each silo's characters decode in that silo's pool, so at least four share one pool.
            var fork = await Grain(key).Fork(new SceneFork(8, Continuation: scene with { MaxTurns = 4 }));
            await Task.WhenAll(fork.BranchKeys.Select(WaitAsync));
        }
        finally
        {
            foreach (var pool in Pools())
            {
                pool.StepCompleted -= OnStep;
            }
        }

        Assert.True(widest >= 4, $"the widest decode step held {widest} tokens; eight branches generating at once on two pools should share steps");
    }

    [Fact]
    public async Task Fork_BadRequests_AreRefusedWithTheReason()
    {
        var scene = Scene(turns: 2);
        var (key, _) = await PlayAsync(scene, Warm);

        var turn = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Grain(key).Fork(new SceneFork(2, AtTurn: 3)));
        Assert.Contains("fork at turn 0 to 2, not 3", turn.Message, StringComparison.Ordinal);
        var branches = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Grain(key).Fork(new SceneFork(0)));
        Assert.Contains("out of range (1 to 64)", branches.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Grain(key).Fork(new SceneFork(1, Continuation: scene with { Present = ["innkeeper", "clerk"] })));
        var never = await Assert.ThrowsAsync<InvalidOperationException>(() => Grain($"test-{Guid.NewGuid():N}/nowhere/0").Fork(new SceneFork(1)));
        Assert.Contains("was not started", never.Message, StringComparison.Ordinal);
        Assert.Empty((await Grain(key).GetLineage()).Forks);
    }

    private static SceneDefinition Scene(int turns) => new(
        "common-room",
        "A rainy night in the Grey Goose inn.",
        ["innkeeper", "clerk", "bard"],
        TurnPolicy.RoundRobin,
        turns,
        [],
        ["The fire crackles as the last guests settle in."],
        []);

    private static string Describe(SceneLine line) => $"{line.Index} {line.Kind} {line.Speaker}: {line.Text}";

    private List<InferencePool> Pools() =>
        [.. fixture.Cluster.Silos.Select(s => s.ServiceProvider.GetService<InferencePool>()).OfType<InferencePool>()];

    private ISceneGrain Grain(string key) => fixture.Client.GetGrain<ISceneGrain>(key);

    private async Task<IReadOnlyList<SceneLine>> WaitAsync(string key)
    {
        var grain = Grain(key);
        await foreach (var line in grain.Watch(0, Cancel).WithCancellation(Cancel))
        {
            _ = line;
        }

        var status = await grain.GetStatus();
        Assert.True(status.Phase == ScenePhase.Completed, $"scene {key} ended {status.Phase}: {status.EndReason}");
        return await grain.GetTranscript();
    }

    private async Task<(string Key, IReadOnlyList<SceneLine> Transcript)> PlayAsync(SceneDefinition scene, SamplingSettings sampling)
    {
        var runId = $"test-{Guid.NewGuid():N}";
        var key = $"{runId}/{scene.Id}/0";
        await Grain(key).Start(new SceneStart(runId, 0, scene, [Marta, Quill, Bo], sampling));
        return (key, await WaitAsync(key));
    }
}
