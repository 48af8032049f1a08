using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Web.Runs;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Client.Benchmarks;

/// <summary>What one play of a scenario cost (<c>bench theater</c>).</summary>
/// <param name="Name">The configuration (<c>run</c>, or <c>tierOff</c>, <c>tierOn</c>, <c>resident</c>).</param>
/// <param name="Characters">Characters played (cast of every scene times replicas).</param>
/// <param name="Sequences">The pool's sequences.</param>
/// <param name="HostKvMegabytes">The host KV tier's budget (-1: the default share, 0: off).</param>
/// <param name="Lines">Character lines spoken.</param>
/// <param name="GeneratedTokens">Tokens generated for lines.</param>
/// <param name="PrefillTokens">Prompt tokens prefilled for lines.</param>
/// <param name="ReprefillTokens">Tokens the pool prefilled again that a session held before it lost its sequence (lines, attribution and the director).</param>
/// <param name="Saves">Sessions saved to the host tier.</param>
/// <param name="Restores">Sessions restored from it.</param>
/// <param name="RestoreMilliseconds">Mean time of one restore.</param>
/// <param name="TokensPerSecond">Generated tokens over the wall time.</param>
/// <param name="P50LineMilliseconds">Median time of a line in the pool (queue and generation).</param>
/// <param name="P95LineMilliseconds">95th percentile of it.</param>
/// <param name="AttributionTimeOverhead">Attribution's scoring time over generation's; null when attribution was off.</param>
/// <param name="WallSeconds">From starting the run to its last transcript.</param>
/// <param name="PeakMegabytes">Peak working set of the process so far (plays in one process only grow it).</param>
internal sealed record TheaterBenchFigures(
    string Name,
    int Characters,
    int Sequences,
    int HostKvMegabytes,
    int Lines,
    long GeneratedTokens,
    long PrefillTokens,
    long ReprefillTokens,
    long Saves,
    long Restores,
    double RestoreMilliseconds,
    double TokensPerSecond,
    double P50LineMilliseconds,
    double P95LineMilliseconds,
    double? AttributionTimeOverhead,
    double WallSeconds,
    double PeakMegabytes);

/// <summary>Plays a scenario on an embedded silo and measures it with the pool's counters (<c>bench theater</c>).</summary>
internal static class TheaterBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Plays <paramref name="scenario"/> once under <paramref name="settings"/> and returns its figures as <paramref name="name"/>.</summary>
    public static async Task<TheaterBenchFigures> PlayAsync(
        string name, TheaterSettings settings, string model, ScenarioDefinition scenario, IProgress<ProgressUpdate> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(scenario);

        // The silo's state and the transcripts are the benchmark's working storage.
        using var scratch = new ScratchFolder();
        await using var theater = await Theater.StartEmbeddedAsync(settings, new EmbeddedSilo(model, Path.Combine(scratch.Path, "state.db")), cancellationToken);
        var runId = RunRecord.NewRunId(scenario.Name);
        var folder = new RunFolder(Path.Combine(scratch.Path, runId));
        var summary = await ScenarioRunner.RunAsync(theater.Grains, scenario, runId, folder, progress, cancellationToken);
        var statistics = theater.Services.GetService<InferencePool>()?.Statistics;
        var latencies = LineMilliseconds(folder);
        return new TheaterBenchFigures(
            name,
            summary.Characters,
            settings.Sequences,
            settings.HostKvMegabytes,
            summary.CharacterLines,
            summary.Tokens,
            summary.PrefillTokens,
            statistics?.ReprefillTokens ?? 0,
            statistics?.Saves ?? 0,
            statistics?.Restores ?? 0,
            statistics is { Restores: > 0 } ? statistics.RestoreTime.TotalMilliseconds / statistics.Restores : 0,
            summary.TokensPerSecond,
            Percentiles.Of(latencies, 0.50),
            Percentiles.Of(latencies, 0.95),
            summary.Attribution?.TimeOverhead,
            summary.WallSeconds,
            Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0));
    }

    /// <summary>The figures as a Markdown table, one row per play, then the ratios of the tier comparison when all three are there.</summary>
    public static string Table(IReadOnlyList<TheaterBenchFigures> plays)
    {
        ArgumentNullException.ThrowIfNull(plays);
        var table = new StringBuilder()
            .AppendLine("| run | characters | sequences | kv host MB | lines | generated | prefilled | re-prefilled | saves | restores | restore ms | tokens/s | line p50 ms | line p95 ms | attribution / generation | wall s | peak MB |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in plays)
        {
            var attribution = p.AttributionTimeOverhead is { } overhead ? overhead.ToString("P0", CultureInfo.InvariantCulture) : "off";
            var host = p.HostKvMegabytes switch { 0 => "off", < 0 => "default", _ => p.HostKvMegabytes.ToString(CultureInfo.InvariantCulture) };
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {p.Name} | {p.Characters:N0} | {p.Sequences:N0} | {host} | {p.Lines:N0} | {p.GeneratedTokens:N0} | {p.PrefillTokens:N0} | {p.ReprefillTokens:N0} | {p.Saves:N0} | {p.Restores:N0} | {p.RestoreMilliseconds:N2} | {p.TokensPerSecond:N0} | {p.P50LineMilliseconds:N0} | {p.P95LineMilliseconds:N0} | {attribution} | {p.WallSeconds:N1} | {p.PeakMegabytes:N0} |"));
        }

        if (Find(plays, "tierOff") is { } off && Find(plays, "tierOn") is { } on && Find(plays, "resident") is { } resident)
        {
            table.AppendLine()
                .AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"tier on against tier off: wall {on.WallSeconds / off.WallSeconds:N2}x, prefill {Ratio(on.PrefillTokens, off.PrefillTokens)}; against resident: prefill {Ratio(on.PrefillTokens, resident.PrefillTokens)}; re-prefilled {Ratio(on.ReprefillTokens, on.PrefillTokens)} of prefilled"));
        }

        return table.ToString();
    }

    /// <summary>The figures as JSON: one play's object, or <c>{"tierOff": ..., "tierOn": ..., "resident": ...}</c>.</summary>
    public static string ToJson(IReadOnlyList<TheaterBenchFigures> plays)
    {
        ArgumentNullException.ThrowIfNull(plays);
        return plays.Count == 1
            ? JsonSerializer.Serialize(plays[0], Json)
            : JsonSerializer.Serialize(plays.ToDictionary(p => p.Name, p => p), Json);
    }

    /// <summary>Queue and generation time of every character line in the run folder's transcripts.</summary>
    private static List<double> LineMilliseconds(RunFolder folder)
    {
        var times = new List<double>();
        foreach (var file in Directory.EnumerateFiles(folder.ScenesPath, "*.jsonl"))
        {
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.GetProperty("kind").GetString() == "character")
                {
                    times.Add(root.GetProperty("queueMilliseconds").GetDouble() + root.GetProperty("generateMilliseconds").GetDouble());
                }
            }
        }

        return times;
    }

    private static TheaterBenchFigures? Find(IReadOnlyList<TheaterBenchFigures> plays, string name) => plays.FirstOrDefault(p => p.Name == name);

    private static string Ratio(long a, long b) => b == 0 ? "-" : ((double)a / b).ToString("N2", CultureInfo.InvariantCulture) + "x";
}
