using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentTheater.Grains.Tests;

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
        var dashboardMetrics = DashboardMetricNames(Path.Combine(AppContext.BaseDirectory, "deploy", "grafana", "agent-theater.json"));
        Assert.Contains("agent_theater_takeovers_total", dashboardMetrics);
        Assert.Contains("agent_theater_turn_duration_seconds_bucket", dashboardMetrics);

        var (httpPort, siloPort, gatewayPort) = (FreePort(), FreePort(), FreePort());
        var silo = Start(
            SiloAssembly(),
            $"--Http:Port={httpPort}",
            $"--Cluster:SiloPort={siloPort}",
            $"--Cluster:GatewayPort={gatewayPort}",
            "--Storage:Provider=Memory",
            $"--Inference:ModelPath={fixture.ModelPath}",
            "--Inference:MaxSequences=4",
            "--Inference:SequenceContextLength=1024",
            "--Inference:Threads=1",
            "--Logging:LogLevel:Default=Warning");
        var siloOutput = Collect(silo);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitReadyAsync(http, silo, siloOutput);

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
            using var client = Start(Path.Combine(AppContext.BaseDirectory, "agent-theater.dll"), "run", scenario, "--cluster", $"127.0.0.1:{gatewayPort}", "--out", Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}"));
            var clientOutput = Collect(client);
            await WaitAsync(client, TimeSpan.FromMinutes(3));
            Assert.True(client.ExitCode == 0, $"run --cluster exited {client.ExitCode}\n{clientOutput}\nsilo:\n{siloOutput}");

            var scrape = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancel);
            var exported = ExportedMetricNames(scrape);

            Assert.All(dashboardMetrics, name => Assert.True(exported.Contains(name), $"the dashboard queries {name}, which the silo does not export; it exports:\n{string.Join("\n", exported.Order())}"));
            Assert.Equal(3, LinesOf(scrape, "metrics"));
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

    /// <summary>The silo built with the tests (its path is written into this assembly by the test project).</summary>
    private static string SiloAssembly()
    {
        var path = Path.GetFullPath(typeof(SiloMetricsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SiloAssembly").Value!);
        Assert.True(File.Exists(path), $"{path} is missing: build the solution (the silo is built with the tests).");
        return path;
    }

    /// <summary>Runs <c>dotnet <paramref name="assembly"/></c> in the assembly's folder (where its appsettings.json is).</summary>
    private static Process Start(string assembly, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(assembly)! };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static StringBuilder Collect(Process process)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }

    private static async Task WaitReadyAsync(HttpClient http, Process silo, StringBuilder output)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            Assert.False(silo.HasExited, $"the silo exited with {(silo.HasExited ? silo.ExitCode : 0)}:\n{output}");
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"the silo was not ready in 2 minutes:\n{output}");
            await Task.Delay(TimeSpan.FromMilliseconds(250), Cancel);
        }
    }

    private static async Task WaitAsync(Process process, TimeSpan limit)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

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
