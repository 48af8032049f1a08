using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Integration.Tests;

/// <summary>The scene's play loop on its grain timer, on the two-silo cluster.</summary>
public sealed class ScenePlayTests(TheaterClusterFixture fixture)
{
    private const int Turns = 12;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scene_DeactivatedBetweenTurns_ResumesWithNoLineLostOrRepeated()
    {
        var runId = $"play-{Guid.NewGuid():N}";
        var scene = fixture.Client.GetGrain<ISceneGrain>($"{runId}/hall/0");
        var definition = TelemetryTests.Scenario("play", replicas: 1, turns: Turns);
        await scene.Start(new SceneStart(runId, 0, definition.Scenes[0], definition.Characters, definition.Sampling));
        var status = await scene.GetStatus();
        while (status.Turns < 2)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), Cancel);
            status = await scene.GetStatus();
        }

        Assert.Equal(ScenePhase.Playing, status.Phase);
        await fixture.Cluster.DeactivateAsync(scene);

        // The next call activates the scene again, and it plays on from its stored transcript.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        while ((status = await scene.GetStatus()).Phase == ScenePhase.Playing)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }

        Assert.Equal(ScenePhase.Completed, status.Phase);
        Assert.Equal($"max turns ({Turns})", status.EndReason);
        var transcript = await scene.GetTranscript();
        Assert.Equal(Enumerable.Range(0, transcript.Count), transcript.Select(l => l.Index));
        Assert.Equal(Enumerable.Range(0, Turns), transcript.Where(l => l.Kind == LineKind.Character).Select(l => l.Turn));
    }
}
