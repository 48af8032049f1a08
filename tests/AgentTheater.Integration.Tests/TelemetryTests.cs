using System.Diagnostics;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;

namespace AgentTheater.Integration.Tests;

/// <summary>Spans of a scenario run on the two-silo cluster, captured with OpenTelemetry's in-memory exporter.</summary>
public sealed class TelemetryTests(TheaterClusterFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Spans_ScenarioRun_NestAcrossGrains_FromRunToInference()
    {
        var spans = new SpanCollection();
        using var test = new ActivitySource($"AgentTheater.Tests.{Guid.NewGuid():N}");
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(test.Name, TheaterTelemetry.Name, ActivitySources.ApplicationGrainActivitySourceName, ActivitySources.RuntimeActivitySourceName)
            .AddInMemoryExporter(spans)
            .Build();
        var scenario = Scenario("telemetry", replicas: 2, turns: 3);
        var runId = $"telemetry-{Guid.NewGuid():N}";
        var run = fixture.Client.GetGrain<IScenarioRunGrain>(runId);
        string callerTraceId;

        using (var caller = test.StartActivity("start run"))
        {
            await run.Start(scenario);
            callerTraceId = caller!.TraceId.ToHexString();
        }

        while (!(await run.GetProgress()).Done)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), Cancel);
        }

        // A scene's play span ends just after it reports its end to the run.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (spans.Snapshot().Count(s => s.OperationName == TheaterTelemetry.Spans.ScenePlay && Equals(s.GetTagItem(TheaterTelemetry.Attributes.Run), runId)) < 2)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }

        var tree = SpanTree.AssertRun(spans.Snapshot().Select(SpanRecord.From), runId, scenes: 2, turnsPerScene: 3);

        // The client propagates its context too: the run is part of the trace of the call that started it.
        Assert.Equal(callerTraceId, tree.Run.TraceId);
        Assert.Equal("telemetry", tree.Run.Text(TheaterTelemetry.Attributes.Scenario));
        Assert.All(tree.Named(TheaterTelemetry.Spans.ScenePlay), p => Assert.Equal("max turns (3)", p.Text(TheaterTelemetry.Attributes.EndReason)));
        var generated = 0;
        foreach (var key in await run.GetSceneKeys())
        {
            generated += (await fixture.Client.GetGrain<ISceneGrain>(key).GetTranscript()).Sum(l => l.Tokens);
        }

        Assert.Equal(generated, tree.Named(TheaterTelemetry.Spans.InferenceGenerate).Sum(g => g.Number(TheaterTelemetry.Attributes.DecodeTokens)));
    }

    internal static ScenarioDefinition Scenario(string name, int replicas, int turns) => new(
        name,
        [
            new PersonaCard("host", "Hal", "a host", ["welcome the guest"], [], "warm"),
            new PersonaCard("guest", "Gwen", "a guest", ["find the cellar"], [], "curious"),
        ],
        [new SceneDefinition("hall", "A small hall at dusk.", ["host", "guest"], TurnPolicy.RoundRobin, turns, [], ["The door creaks."], [])],
        new SamplingSettings(Seed: 7, MaxTokensPerLine: 8),
        replicas);
}
