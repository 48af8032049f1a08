using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AgentTheater.Grains.Diagnostics;

namespace AgentTheater.Integration.Tests;

/// <summary>A finished span as any exporter sees it: from the in-memory exporter or from a traces.jsonl line.</summary>
internal sealed record SpanRecord(string TraceId, string SpanId, string? ParentId, string Name, string Source, IReadOnlyDictionary<string, object?> Attributes)
{
    public static SpanRecord From(Activity activity) => new(
        activity.TraceId.ToHexString(),
        activity.SpanId.ToHexString(),
        activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
        activity.DisplayName,
        activity.Source.Name,
        activity.TagObjects.ToDictionary(t => t.Key, t => t.Value));

    public static SpanRecord From(JsonElement line) => new(
        line.GetProperty("traceId").GetString()!,
        line.GetProperty("spanId").GetString()!,
        line.GetProperty("parentId").GetString(),
        line.GetProperty("name").GetString()!,
        line.GetProperty("source").GetString()!,
        line.GetProperty("attributes").EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.ValueKind switch
            {
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => (object?)p.Value.GetString(),
                _ => null,
            }));

    public string? Text(string attribute) => Attributes.TryGetValue(attribute, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    public double Number(string attribute) =>
        Attributes.TryGetValue(attribute, out var value) && value is not null and not string
            ? Convert.ToDouble(value, CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"{Name} has no numeric attribute {attribute}.");
}

/// <summary>
/// The theater's spans of one run, each with its nearest theater ancestor. Orleans' own spans (the client and server
/// side of every grain call) sit between them; walking through them proves the context crossed the grain calls.
/// </summary>
internal sealed class SpanTree
{
    private readonly Dictionary<string, SpanRecord> _byId;

    private SpanTree(SpanRecord run, IReadOnlyList<SpanRecord> trace)
    {
        Run = run;
        Trace = trace;
        _byId = trace.ToDictionary(s => s.SpanId);
    }

    public SpanRecord Run { get; }

    public IReadOnlyList<SpanRecord> Trace { get; }

    /// <summary>The run's trace, checked: scenario.run &gt; scene.play &gt; scene.turn &gt; character.speak &gt; inference.generate.</summary>
    public static SpanTree AssertRun(IEnumerable<SpanRecord> spans, string runId, int scenes, int turnsPerScene)
    {
        var all = spans.ToList();
        var run = Assert.Single(all, s => s.Name == TheaterTelemetry.Spans.ScenarioRun && s.Text(TheaterTelemetry.Attributes.Run) == runId);
        var tree = new SpanTree(run, [.. all.Where(s => s.TraceId == run.TraceId)]);

        var plays = tree.Named(TheaterTelemetry.Spans.ScenePlay);
        Assert.Equal(scenes, plays.Count);
        Assert.All(plays, p => Assert.Same(run, tree.TheaterParent(p)));

        var turns = tree.Named(TheaterTelemetry.Spans.SceneTurn);
        Assert.Equal(scenes * turnsPerScene, turns.Count);
        Assert.All(plays, p => Assert.Equal(turnsPerScene, turns.Count(t => tree.TheaterParent(t) == p)));

        var speaks = tree.Named(TheaterTelemetry.Spans.CharacterSpeak);
        Assert.Equal(turns.Count, speaks.Count);
        foreach (var speak in speaks)
        {
            var turn = tree.TheaterParent(speak);
            Assert.Equal(TheaterTelemetry.Spans.SceneTurn, turn?.Name);
            Assert.Equal(turn!.Text(TheaterTelemetry.Attributes.Character), speak.Text(TheaterTelemetry.Attributes.Character));

            // The scene and the character are different grains: Orleans' call spans lie between turn and speak.
            Assert.NotEqual(TheaterTelemetry.Name, tree._byId[speak.ParentId!].Source);
        }

        var generations = tree.Named(TheaterTelemetry.Spans.InferenceGenerate);
        Assert.Equal(speaks.Count, generations.Count);
        foreach (var generate in generations)
        {
            var speak = tree.TheaterParent(generate);
            Assert.Equal(TheaterTelemetry.Spans.CharacterSpeak, speak?.Name);
            Assert.True(generate.Number(TheaterTelemetry.Attributes.QueueMilliseconds) >= 0);
            Assert.True(generate.Number(TheaterTelemetry.Attributes.DecodeTokens) > 0);
            Assert.InRange(generate.Number(TheaterTelemetry.Attributes.PrefillTokens), 1, generate.Number(TheaterTelemetry.Attributes.PromptTokens));
            Assert.Equal(speak!.Number(TheaterTelemetry.Attributes.DecodeTokens), generate.Number(TheaterTelemetry.Attributes.DecodeTokens));
            Assert.Equal(speak.Number(TheaterTelemetry.Attributes.PrefillTokens), generate.Number(TheaterTelemetry.Attributes.PrefillTokens));
        }

        return tree;
    }

    public IReadOnlyList<SpanRecord> Named(string name) => [.. Trace.Where(s => s.Source == TheaterTelemetry.Name && s.Name == name)];

    /// <summary>The nearest ancestor from the theater's source; null when the chain breaks (a parent not exported).</summary>
    public SpanRecord? TheaterParent(SpanRecord span)
    {
        var parentId = span.ParentId;
        while (parentId is not null && _byId.TryGetValue(parentId, out var parent))
        {
            if (parent.Source == TheaterTelemetry.Name)
            {
                return parent;
            }

            parentId = parent.ParentId;
        }

        return null;
    }
}
