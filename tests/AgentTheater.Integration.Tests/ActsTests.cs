using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Integration.Tests;

/// <summary>Scenes played in acts (<see cref="SceneDefinition.After"/>) on the two-silo cluster.</summary>
public sealed class ActsTests(TheaterClusterFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_ScenesAfterOthers_StartOnlyOnceTheirPredecessorsEnded()
    {
        var scenario = ScenarioFile.Parse("""
            sampling: {seed: 3, max_tokens_per_line: 4}
            replicas: 2
            characters:
              - {id: a, name: Ann, role: a host}
              - {id: b, name: Ben, role: a guest}
              - {id: c, name: Cy, role: a cook}
              - {id: d, name: Di, role: a maid}
            scenes:
              - {id: one, setting: A hall., present: [a, b], max_turns: 3}
              - {id: side, setting: A kitchen., present: [c, d], max_turns: 3}
              - {id: two, setting: A cellar., present: [a], max_turns: 2}
              - {id: three, setting: A yard., present: [b, a], max_turns: 2}
            """, "acts.yaml");
        var runId = $"acts-{Guid.NewGuid():N}";
        var run = fixture.Client.GetGrain<IScenarioRunGrain>(runId);

        await run.Start(scenario);
        var first = await run.GetPlayOrder();
        await WaitUntilDone(run);

        Assert.Equal(["one", "one", "side", "side"], first.Select(p => p.SceneId).Order(StringComparer.Ordinal));
        var played = await run.GetPlayOrder();
        Assert.Equal(8, played.Count);
        Assert.Equal(8, (await run.GetSceneKeys()).Count);
        for (var replica = 0; replica < 2; replica++)
        {
            var scenes = played.Where(p => p.Replica == replica).ToDictionary(p => p.SceneId);
            Assert.All(scenes.Values, p => Assert.Equal(ScenePhase.Completed, p.Ended?.Phase));

            // One and side start at once, with the run; two only once one has ended, three once two has.
            Assert.Equal(scenes["one"].StartedAt, scenes["side"].StartedAt);
            Assert.True(scenes["side"].StartedAt < scenes["one"].EndedAt);
            Assert.True(scenes["two"].StartedAt >= scenes["one"].EndedAt);
            Assert.True(scenes["three"].StartedAt >= scenes["two"].EndedAt);

            // Every line of two was spoken after one ended: two's scene had not started (no line) until then.
            var two = await fixture.Client.GetGrain<ISceneGrain>(scenes["two"].SceneKey).GetTranscript();
            Assert.Equal(2, two.Count(l => l.Kind == LineKind.Character));
        }

        var order = played.Where(p => p.Replica == 0).Select(p => p.SceneId).ToList();
        Assert.Equal(["one", "side", "three", "two"], order.Order(StringComparer.Ordinal));
        Assert.True(order.IndexOf("two") > order.IndexOf("one") && order.IndexOf("three") > order.IndexOf("two"));
    }

    [Fact]
    public async Task StopPlay_ScenesNotStarted_EndAsStoppedBeforeTheyStarted()
    {
        var scenario = ScenarioFile.Parse("""
            sampling: {seed: 3, max_tokens_per_line: 4}
            characters:
              - {id: a, name: Ann, role: a host}
              - {id: b, name: Ben, role: a guest}
            scenes:
              - {id: long, setting: A hall., present: [a, b], max_turns: 2000}
              - {id: later, setting: A yard., present: [a], max_turns: 2}
            """, "acts.yaml");
        var run = fixture.Client.GetGrain<IScenarioRunGrain>($"acts-stop-{Guid.NewGuid():N}");

        await run.Start(scenario);
        await run.StopPlay();
        var progress = await WaitUntilDone(run);

        Assert.Equal((2, 2, 0), (progress.Scenes, progress.Completed, progress.Failed));
        var played = Assert.Single(await run.GetPlayOrder());
        Assert.Equal("long", played.SceneId);
        Assert.Equal("stopped", played.Ended?.EndReason);
    }

    [Fact]
    public async Task Run_StoryScenario_WritesTheReplicasStoryWithItsThreeScenesInOrder()
    {
        var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");

        var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync(
            "run", "scenarios/story.yaml", "--model", fixture.ModelPath, "--out", output, "--sequences", "8", "--context", "1024", "--no-attribution");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var run = Assert.Single(Directory.GetDirectories(output));
        var story = File.ReadAllLines(Path.Combine(run, "stories", "replica-0.md"));
        Assert.Equal(["## 1. common-room", "## 2. cellar", "## 3. dawn"], story.Where(l => l.StartsWith("## ", StringComparison.Ordinal)));
        Assert.Equal(9 + 6 + 6, story.Count(l => l.Contains("**Marta**", StringComparison.Ordinal) || l.Contains("**Wren**", StringComparison.Ordinal) || l.Contains("**Pike**", StringComparison.Ordinal)));
    }

    private static async Task<RunProgress> WaitUntilDone(IScenarioRunGrain run)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        RunProgress progress;
        while (!(progress = await run.GetProgress()).Done)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }

        return progress;
    }
}
