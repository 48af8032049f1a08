using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentTheater.Integration.Tests;

/// <summary>The standalone silo (agent-theater-silo) as a process: what its Prometheus endpoint exports.</summary>
public sealed partial class SiloMetricsTests(TheaterClusterFixture fixture)
{
    private static readonly HashSet<string> PromQlKeywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "inf", "nan",
    };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_AfterARunOnTheSilo_ExportEveryMetricTheDashboardQueries()
    {
        var dashboardMetrics = DashboardMetricNames(RepositoryFiles.Path("deploy", "grafana", "agent-theater.json"));
        Assert.Contains("agent_theater_takeovers_total", dashboardMetrics);
        Assert.Contains("agent_theater_turn_duration_seconds_bucket", dashboardMetrics);

        var (silo, siloOutput, httpPort, gatewayPort) = TestProcesses.StartSilo(
            $"--Inference:ModelPath={fixture.ModelPath}",
            "--Inference:MaxSequences=4",
            "--Inference:SequenceContextLength=1024",
            "--Inference:Threads=1",
            "--Logging:LogLevel:Default=Warning");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await TestProcesses.WaitReadyAsync(http, silo, siloOutput);

            // A short scenario through the silo's gateway, so lines, tokens, batches and turns have been recorded.
            var scenario = Path.Combine(fixture.Directory, $"metrics-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(scenario, """
                name: metrics
                sampling: { seed: 5, max_tokens_per_line: 8 }
                characters:
                  - { id: host, name: Hal, role: a host }
                  - { id: guest, name: Gwen, role: a guest }
                scenes:
                  - { id: hall, setting: a small hall, present: [host, guest], max_turns: 3 }
                """, Cancel);
            using var client = TestProcesses.StartDotnet(TestProcesses.CliAssembly, "run", scenario, "--cluster", $"127.0.0.1:{gatewayPort}", "--out", Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}"));
            var clientOutput = TestProcesses.Collect(client);
            await TestProcesses.WaitAsync(client, TimeSpan.FromMinutes(3));
            Assert.True(client.ExitCode == 0, $"run --cluster exited {client.ExitCode}\n{clientOutput}\nsilo:\n{siloOutput}");

            var scrape = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancel);
            var exported = ExportedMetricNames(scrape);

            Assert.All(dashboardMetrics, name => Assert.True(exported.Contains(name), $"the dashboard queries {name}, which the silo does not export; it exports:\n{string.Join("\n", exported.Order())}"));
            Assert.Equal(3, LinesOf(scrape, "metrics"));

            // The silo serves the web app too: its API lists the run the command line played through the gateway.
            var runs = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/runs", UriKind.Relative), Cancel)).RootElement;
            var run = Assert.Single(runs.EnumerateArray(), r => r.GetProperty("scenario").GetString() == "metrics");
            Assert.True(run.GetProperty("done").GetBoolean());
        }
        finally
        {
            if (!silo.HasExited)
            {
                silo.Kill(entireProcessTree: true);
            }

            await silo.WaitForExitAsync(CancellationToken.None);
            silo.Dispose();
        }
    }

    /// <summary>Metric names in the dashboard's PromQL (<c>expr</c>) and template variable queries.</summary>
    internal static HashSet<string> DashboardMetricNames(string dashboardPath)
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(dashboardPath));
        var names = new HashSet<string>(StringComparer.Ordinal);
        Walk(dashboard.RootElement);
        return names;

        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        names.UnionWith(MetricNamesIn(property.Value.GetString()!));
                    }
                    else if (property.Name == "definition" && property.Value.ValueKind == JsonValueKind.String && LabelValues().Match(property.Value.GetString() ?? string.Empty) is { Success: true } variable)
                    {
                        names.Add(variable.Groups["metric"].Value);
                    }
                    else
                    {
                        Walk(property.Value);
                    }
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }
            }
        }
    }

    /// <summary>
    /// Metric names of a PromQL expression: identifiers that are not functions (followed by a parenthesis), keywords,
    /// label names (inside braces or a <c>by (...)</c> clause), durations or Grafana variables.
    /// </summary>
    internal static IEnumerable<string> MetricNamesIn(string query)
    {
        var text = StringLiteral().Replace(query, "\"\"");
        text = LabelMatchers().Replace(text, string.Empty);
        text = RangeOrSubquery().Replace(text, string.Empty);
        text = GroupingLabels().Replace(text, string.Empty);
        foreach (Match match in Identifier().Matches(text))
        {
            var name = match.Groups["name"].Value;
            if (!match.Groups["call"].Success && !PromQlKeywords.Contains(name))
            {
                yield return name;
            }
        }
    }

    private static double LinesOf(string scrape, string scenario) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith("agent_theater_lines_total{", StringComparison.Ordinal) && l.Contains($"scenario=\"{scenario}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static HashSet<string> ExportedMetricNames(string scrape) =>
        new(scrape.Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l[..l.IndexOfAny(['{', ' '])]), StringComparer.Ordinal);

    [GeneratedRegex(@"label_values\(\s*(?<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex GroupingLabels();

    [GeneratedRegex(@"(?<![\w.$])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();
}
