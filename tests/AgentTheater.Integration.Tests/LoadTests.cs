using System.Text.Json;

namespace AgentTheater.Integration.Tests;

/// <summary>A standalone silo under more work than its pool queue holds: scenes wait, none fails.</summary>
[Trait("Category", "Load")]
public sealed class LoadTests(TheaterClusterFixture fixture)
{
    private const int Scenes = 200;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_TwoHundredScenesOnASiloWhosePoolQueueHoldsSixteen_EveryScenesCompletes_NoLineTwice()
    {
        var (silo, siloOutput, httpPort, gatewayPort) = TestProcesses.StartSilo(
            $"--Inference:ModelPath={fixture.ModelPath}",
            "--Inference:MaxSequences=32",
            "--Inference:MaxQueuedRequests=16",
            "--Inference:SequenceContextLength=1024",
            "--Inference:Threads=1",
            "--Attribution:Enabled=true",
            "--Logging:LogLevel:Default=Warning");
        using var process = silo;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await TestProcesses.WaitReadyAsync(http, silo, siloOutput);
            var scenario = Path.Combine(fixture.Directory, $"load-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(scenario, """
                name: load
                sampling: { seed: 3, max_tokens_per_line: 6 }
                characters:
                  - { id: host, name: Hal, role: a host }
                  - { id: guest, name: Gwen, role: a guest }
                scenes:
                  - { id: hall, setting: a small hall, present: [host, guest], max_turns: 4 }
                """, Cancel);
            var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");

            var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync("run", scenario, "--replicas", $"{Scenes}", "--cluster", $"127.0.0.1:{gatewayPort}", "--out", output);

            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}\nsilo:\n{TestProcesses.Text(siloOutput)}");
            var run = Assert.Single(Directory.GetDirectories(output));
            var transcripts = Directory.GetFiles(Path.Combine(run, "scenes"), "*.jsonl");
            Assert.Equal(Scenes, transcripts.Length);
            foreach (var file in transcripts)
            {
                var lines = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
                Assert.Equal(Enumerable.Range(0, lines.Count), lines.Select(l => l.GetProperty("index").GetInt32()));
                Assert.Equal([0, 1, 2, 3], lines.Where(l => l.GetProperty("kind").GetString() == "character").Select(l => l.GetProperty("turn").GetInt32()));
            }

            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
            Assert.Equal((Scenes, 0), (summary.RootElement.GetProperty("completed").GetInt32(), summary.RootElement.GetProperty("failed").GetInt32()));
            Assert.Equal(Scenes * 4, summary.RootElement.GetProperty("attribution").GetProperty("attributedLines").GetInt32());

            // The queue was full and callers waited: the silo says so.
            var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancel);
            var waits = metrics.Split('\n').Single(l => l.StartsWith("agent_theater_pool_admission_waits_total", StringComparison.Ordinal));
            Assert.True(double.Parse(waits.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) > 0, waits);
        }
        finally
        {
            await TestProcesses.StopAsync(silo);
        }
    }
}
