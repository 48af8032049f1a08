using System.Diagnostics;
using System.Text.Json;
using AgentTheater.Grains.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentTheater.Grains.Tests;

/// <summary>The telemetry plumbing on its own: takeover recording, the JSONL trace file, option validation.</summary>
public sealed class TelemetryExportTests
{
    private static readonly string[] Roles = ["a pirate", "a librarian"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public void RecordTakeover_InsideARoleAttributionSpan_AddsTheEventAndCountsTheTakeoverByRole()
    {
        var spans = new SpanCollection();
        var metrics = new List<MetricSnapshot>();
        var scenario = $"takeover-{Guid.NewGuid():N}";
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(TheaterTelemetry.Name).AddInMemoryExporter(spans).Build())
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeter(TheaterTelemetry.Name).AddInMemoryExporter(metrics).Build())
        {
            using (TheaterTelemetry.StartRoleAttribution(scenario, "run/archive/0", "librarian", turn: 5))
            {
                TheaterTelemetry.RecordTakeover(new RoleShift(scenario, "librarian", "librarian", "a pirate", 0.91, TriggerLine: 7));
                TheaterTelemetry.RecordRecovery(new RoleShift(scenario, "librarian", "a pirate", "librarian", 0.8, TriggerLine: 11));
            }

            meters.ForceFlush();
            var takeovers = Assert.Single(Points(metrics, TheaterTelemetry.Instruments.Takeovers, scenario));
            Assert.Equal(1, takeovers.GetSumLong());
            Assert.Equal(
                new Dictionary<string, object?> { ["scenario"] = scenario, ["character"] = "librarian", ["from_role"] = "librarian", ["to_role"] = "a pirate" },
                Tags(takeovers));
            Assert.Single(Points(metrics, TheaterTelemetry.Instruments.Recoveries, scenario));
        }

        var span = Assert.Single(spans.Snapshot(), s => Equals(s.GetTagItem(TheaterTelemetry.Attributes.Scenario), scenario));
        Assert.Equal(TheaterTelemetry.Spans.RoleAttribute, span.OperationName);
        Assert.Equal(5, span.GetTagItem(TheaterTelemetry.Attributes.Turn));
        Assert.Equal([TheaterTelemetry.Events.RoleTakeover, TheaterTelemetry.Events.RoleRecovered], span.Events.Select(e => e.Name));
        var takeover = span.Events.First().Tags.ToDictionary();
        Assert.Equal("librarian", takeover[TheaterTelemetry.Attributes.TakeoverFromRole]);
        Assert.Equal("a pirate", takeover[TheaterTelemetry.Attributes.TakeoverToRole]);
        Assert.Equal(0.91, takeover[TheaterTelemetry.Attributes.TakeoverPosterior]);
        Assert.Equal(7, takeover[TheaterTelemetry.Attributes.TakeoverTriggerLine]);
    }

    [Fact]
    public async Task JsonlTraceFile_WritesEverySpanAsOneJsonLine_WithParentAttributesAndEvents()
    {
        var file = Path.Combine(Path.GetTempPath(), $"agent-theater-traces-{Guid.NewGuid():N}", "traces.jsonl");
        using var source = new ActivitySource($"AgentTheater.Tests.{Guid.NewGuid():N}");
        string parentId, childId;
        using (Sdk.CreateTracerProviderBuilder().AddSource(source.Name).AddJsonlTraceFile(file).Build())
        {
            using var parent = source.StartActivity("scene.turn")!.SetTag("agent_theater.turn", 3);
            using var child = source.StartActivity("role.attribute")!.SetTag("agent_theater.character", "librarian").SetTag("roles", Roles);
            child.AddEvent(new ActivityEvent("role.takeover", tags: new ActivityTagsCollection { ["takeover.posterior"] = 0.75, ["takeover.to_role"] = "a pirate" }));
            parentId = parent.SpanId.ToHexString();
            childId = child.SpanId.ToHexString();
        }

        // Disposing the provider flushed the batch; the file holds whole lines only.
        var lines = (await File.ReadAllLinesAsync(file, Cancel)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        var written = lines.ToDictionary(l => l.GetProperty("spanId").GetString()!);
        var role = written[childId];
        Assert.Equal(parentId, role.GetProperty("parentId").GetString());
        Assert.Equal(JsonValueKind.Null, written[parentId].GetProperty("parentId").ValueKind);
        Assert.Equal(role.GetProperty("traceId").GetString(), written[parentId].GetProperty("traceId").GetString());
        Assert.Equal("role.attribute", role.GetProperty("name").GetString());
        Assert.True(role.GetProperty("durationMs").GetDouble() >= 0);
        Assert.True(DateTime.TryParse(role.GetProperty("start").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal("librarian", role.GetProperty("attributes").GetProperty("agent_theater.character").GetString());
        Assert.Equal(["a pirate", "a librarian"], role.GetProperty("attributes").GetProperty("roles").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, written[parentId].GetProperty("attributes").GetProperty("agent_theater.turn").GetInt32());
        var takeover = Assert.Single(role.GetProperty("events").EnumerateArray());
        Assert.Equal("role.takeover", takeover.GetProperty("name").GetString());
        Assert.Equal(0.75, takeover.GetProperty("attributes").GetProperty("takeover.posterior").GetDouble());
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Theory]
    [InlineData("Telemetry:Otlp:Endpoint", "localhost:4317", "Telemetry:Otlp:Endpoint must be an absolute http or https URI")]
    [InlineData("Telemetry:Otlp:Protocol", "udp", "Telemetry:Otlp:Protocol must be grpc or http/protobuf")]
    [InlineData("Telemetry:SamplingRatio", "1.5", "SamplingRatio")]
    [InlineData("Telemetry:Prometheus:Path", "metrics", "Telemetry:Prometheus:Path must start with '/'")]
    public void AddTheaterTelemetry_InvalidSetting_ThrowsNamingIt(string key, string value, string message)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new(key, value)]);

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddTheaterTelemetry());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static List<MetricPoint> Points(List<MetricSnapshot> metrics, string name, string scenario) =>
        [.. metrics.Last(m => m.Name == name).MetricPoints.Where(p => Tags(p).TryGetValue("scenario", out var tag) && Equals(tag, scenario))];

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}
