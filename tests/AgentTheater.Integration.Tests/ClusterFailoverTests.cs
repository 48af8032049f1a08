using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Cluster;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Runtime.Placement;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// A real cluster of three standalone silo processes on Redis (two with a model, marked gpu=true; one without), a scenario
/// run through the CLI, and one silo with a model killed with SIGKILL mid-run.
/// </summary>
public sealed partial class ClusterFailoverTests(TheaterClusterFixture fixture)
{
    private const int Replicas = 12;
    private const int MaxTurns = 40;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cluster_KillOneOfThreeSilosMidRun_EverySceneCompletesWithNoLineLostOrDuplicated()
    {
        var directory = Path.Combine(fixture.Directory, $"failover-{Guid.NewGuid():N}");
        var clusterId = $"failover-{Guid.NewGuid():N}";
        var silos = new List<SiloProcess>();
        Process? run = null;
        IHost? observer = null;
        await using var redis = await RedisTestServer.StartAsync(Path.Combine(directory, "redis"));
        try
        {
            silos.Add(SiloProcess.Start("gpu-a", redis, clusterId, fixture.ModelPath));
            silos.Add(SiloProcess.Start("gpu-b", redis, clusterId, fixture.ModelPath));
            silos.Add(SiloProcess.Start("cpu-c", redis, clusterId, modelPath: null));
            await Task.WhenAll(silos.Select(s => s.WaitReadyAsync()));
            observer = await ConnectAsync(redis, clusterId);
            var grains = observer.Services.GetRequiredService<IClusterClient>();
            await WaitUntilEverySiloSeesBothModelsAsync(grains);

            var scenario = Path.Combine(directory, "failover.yaml");
            await File.WriteAllTextAsync(scenario, $$"""
                name: failover
                replicas: {{Replicas}}
                sampling: { seed: 3, max_tokens_per_line: 6 }
                characters:
                  - { id: ada, name: Ada, role: a sailor }
                  - { id: bo, name: Bo, role: a cook }
                scenes:
                  - { id: deck, setting: a ship's deck at dawn, present: [ada, bo], max_turns: {{MaxTurns}} }
                """, Cancel);
            var runs = Path.Combine(directory, "runs");
            var cluster = $"redis://{redis.ConnectionString}";
            run = TestProcesses.StartDotnet(TestProcesses.CliAssembly, "run", scenario, "--cluster", cluster, "--cluster-id", clusterId, "--out", runs);
            var runOutput = TestProcesses.Collect(run);
            var runId = await RunIdAsync(run, runOutput, runs);

            // The CLI writes the run's run.json, then starts it.
            var sceneKeys = await grains.GetGrain<IScenarioRunGrain>(runId).GetSceneKeys();
            while (sceneKeys.Count == 0)
            {
                Assert.False(run.HasExited, $"run --cluster exited before starting the run:\n{TestProcesses.Text(runOutput)}");
                await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
                sceneKeys = await grains.GetGrain<IScenarioRunGrain>(runId).GetSceneKeys();
            }

            Assert.Equal(Replicas, sceneKeys.Count);

            // Mid-run: a sixth of the lines spoken.
            var before = await LinesAsync(grains, sceneKeys);
            while (before.Values.Sum() < Replicas * MaxTurns / 6)
            {
                Assert.False(run.HasExited, $"the run ended before the kill:\n{TestProcesses.Text(runOutput)}");
                await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
                before = await LinesAsync(grains, sceneKeys);
            }

            // Both silos with a model serve; the one without never loaded a model. The scenes spread by activation count
            // and their characters follow them, so wait for both pools to have generated while the run is still short of
            // two thirds of its lines (a loaded machine can take a while to reach the second).
            while (before.Values.Sum() < Replicas * MaxTurns * 2 / 3 && !await BothServedAsync(silos))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
                before = await LinesAsync(grains, sceneKeys);
            }

            foreach (var gpu in silos.Take(2))
            {
                var pool = await gpu.StatusAsync();
                Assert.True(pool.GetProperty("loaded").GetBoolean(), $"{gpu.Name} did not load its model at start\n{pool}");
                Assert.True(pool.GetProperty("generatedTokens").GetInt64() > 0, $"{gpu.Name} has not served any inference: the load did not spread\n{pool}");
            }

            Assert.False((await silos[2].StatusAsync()).GetProperty("loaded").GetBoolean());

            // The victim: a silo with a model that hosts characters of the run (their contexts can only come back from
            // storage, and its pool's sessions must move to the other), else whichever silo hosts the most of them
            // (placement weighs load, and the pools keep the silos with a model busy).
            var management = grains.GetGrain<IManagementGrain>(0);
#pragma warning disable xUnit1051 // IManagementGrain's methods take no token; WaitAsync carries the test's.
            var hosts = await management.GetDetailedHosts(onlyActive: true).WaitAsync(Cancel);
            var characters = new Dictionary<SiloProcess, List<string>>();
            foreach (var silo in silos)
            {
                var address = hosts.Single(h => h.SiloName == silo.Name).SiloAddress;
                characters[silo] = [.. (await management.GetDetailedGrainStatistics(null, [address]).WaitAsync(Cancel))
                    .Select(s => s.GrainId.Key.ToString()!)
                    .Where(k => k.StartsWith(runId + "/@", StringComparison.Ordinal) && k.Split('/').Length == 3)];
            }
#pragma warning restore xUnit1051
            var victim = silos.Take(2).Where(s => characters[s].Count > 0).OrderByDescending(s => characters[s].Count).FirstOrDefault()
                ?? silos.OrderByDescending(s => characters[s].Count).First();
            var lost = characters[victim];
            Assert.True(lost.Count > 0, $"no silo hosts a character of the run: {string.Join(", ", characters.Select(p => $"{p.Key.Name}: {p.Value.Count}"))}");

            before = await LinesAsync(grains, sceneKeys);
            var playing = before.Where(p => p.Value < MaxTurns).Select(p => p.Key).ToHashSet();
            var clock = Stopwatch.StartNew();
            victim.Kill();

            // Recovered: every scene that was playing has a line it did not have at the kill, or has ended.
            while (playing.Count > 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"scenes {string.Join(", ", playing)} did not move in 3 minutes:\n{TestProcesses.Text(runOutput)}");
                foreach (var key in playing.ToList())
                {
                    try
                    {
                        var scene = await grains.GetGrain<ISceneGrain>(key).GetStatus().WaitAsync(TimeSpan.FromSeconds(2), Cancel);
                        if (scene.Lines > before[key] || scene.Phase is ScenePhase.Completed)
                        {
                            playing.Remove(key);
                        }
                    }
                    catch (Exception e) when (e is OrleansException or TimeoutException)
                    {
                        // Its silo is not declared dead yet.
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), Cancel);
            }

            var recovered = clock.Elapsed;
            await TestProcesses.WaitAsync(run, TimeSpan.FromMinutes(4));
            var finished = clock.Elapsed;
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"killed {victim.Name} ({lost.Count} characters of the run on it); every playing scene moved again {recovered.TotalSeconds:N1} s after the kill; the run ended {finished.TotalSeconds:N1} s after it"));
            Assert.True(run.ExitCode == 0, $"run --cluster exited {run.ExitCode}\n{TestProcesses.Text(runOutput)}");

            // Every transcript complete: indices 0..n-1 once each, every turn spoken, as the CLI wrote it and as the scene holds it.
            var folder = Path.Combine(runs, runId);
            using (var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "summary.json"), Cancel)))
            {
                Assert.Equal(Replicas, summary.RootElement.GetProperty("completed").GetInt32());
                Assert.Equal(0, summary.RootElement.GetProperty("failed").GetInt32());
            }

            foreach (var key in sceneKeys)
            {
                var written = ReadLines(Path.Combine(folder, "scenes", string.Join('-', key.Split('/').Skip(1)) + ".jsonl"));
                Assert.Equal(Enumerable.Range(0, MaxTurns), written.Select(l => l.Index));
                Assert.Equal(Enumerable.Range(0, MaxTurns), written.Select(l => l.Turn));
                Assert.All(written, l => Assert.Equal(LineKind.Character, l.Kind));
                var held = await grains.GetGrain<ISceneGrain>(key).GetTranscript();
                Assert.Equal(written.Select(l => (l.Index, l.SpeakerId, l.Text)), held.Select(l => (l.Index, l.SpeakerId, l.Text)));

                // Each character witnessed the whole transcript (no whispers here), including the characters whose silo died.
                var start = (await grains.GetGrain<ISceneGrain>(key).GetStart())!;
                foreach (var character in new[] { "ada", "bo" })
                {
                    var view = await grains.GetGrain<ICharacterGrain>(start.CharacterKey(key, character)).GetView(key);
                    Assert.Equal(held.Select(l => (l.Index, l.Text)), view.Witnessed.Select(l => (l.Index, l.Text)));
                }
            }

            // cluster status: the two silos left, their metadata, and the pool load of the one with a model.
            var (statusCode, statusJson, statusErrors) = await RunCommandTests.AgentTheaterAsync("cluster", "status", "--cluster", cluster, "--cluster-id", clusterId, "--json");
            Assert.True(statusCode == 0, $"cluster status exited {statusCode}\n{statusJson}\n{statusErrors}");
            using var report = JsonDocument.Parse(statusJson);
            var rows = report.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
            Assert.Equal(2, rows.Count);
            Assert.DoesNotContain(victim.Name, rows.Keys);
            foreach (var gpu in silos.Take(2).Where(s => s != victim))
            {
                var row = rows[gpu.Name];
                Assert.Equal(("true", "tiny.gguf"), (row.GetProperty("metadata").GetProperty("gpu").GetString(), row.GetProperty("metadata").GetProperty("model").GetString()));
                Assert.Equal("tiny.gguf", row.GetProperty("pool").GetProperty("model").GetString());
            }

            if (victim != silos[2])
            {
                var cpu = rows["cpu-c"];
                Assert.Equal("Active", cpu.GetProperty("status").GetString());
                Assert.Empty(cpu.GetProperty("metadata").EnumerateObject());
                Assert.Equal(JsonValueKind.Null, cpu.GetProperty("pool").ValueKind);
                Assert.False((await silos[2].StatusAsync()).GetProperty("loaded").GetBoolean(), "the silo without a model loaded one");
            }
        }
        finally
        {
            if (observer is not null)
            {
                try
                {
                    await observer.StopAsync(CancellationToken.None);
                }
                catch (Exception e) when (e is OrleansException or OperationCanceledException)
                {
                    // The cluster may be gone already.
                }

                observer.Dispose();
            }

            await TestProcesses.StopAsync(run);
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>The run id from the run.json the CLI writes into its run folder once it has reached the cluster.</summary>
    private static async Task<bool> BothServedAsync(IReadOnlyList<SiloProcess> silos)
    {
        foreach (var gpu in silos.Take(2))
        {
            var pool = await gpu.StatusAsync();
            if (!pool.GetProperty("loaded").GetBoolean() || pool.GetProperty("generatedTokens").GetInt64() == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<string> RunIdAsync(Process run, StringBuilder output, string runs)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var info = Directory.Exists(runs) ? Directory.GetFiles(runs, "run.json", SearchOption.AllDirectories) : [];
            if (info.Length == 1)
            {
                using var json = JsonDocument.Parse(await File.ReadAllTextAsync(info[0], Cancel));
                return json.RootElement.GetProperty("runId").GetString()!;
            }

            Assert.False(run.HasExited, $"run --cluster exited {(run.HasExited ? run.ExitCode : 0)} before starting:\n{TestProcesses.Text(output)}");
            Assert.True(DateTime.UtcNow < deadline, $"run --cluster did not start in a minute:\n{TestProcesses.Text(output)}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
        }
    }

    /// <summary>
    /// Every silo's metadata cache knows both silos with a model (it learns them from membership a moment after they
    /// join), so every silo spreads inference over both from the first placement.
    /// </summary>
    private static async Task WaitUntilEverySiloSeesBothModelsAsync(IClusterClient grains)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(Cancel);
            var seen = new List<int>();
            foreach (var host in hosts)
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, host.SiloAddress);
                try
                {
                    var report = await grains.GetGrain<ISiloReportGrain>(host.SiloAddress.ToParsableString()).GetReport();
                    seen.Add(report.Silo == host.SiloAddress.ToParsableString() ? report.InferenceSilos.Count : -1);
                }
                finally
                {
                    RequestContext.Remove(IPlacementDirector.PlacementHintKey);
                }
            }

            if (seen.Count == 3 && seen.All(n => n == 2))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the silos did not all see both silos with a model in 3 minutes: {string.Join(", ", seen)}");
            await Task.Delay(TimeSpan.FromMilliseconds(500), Cancel);
        }
    }

    private static async Task<IHost> ConnectAsync(RedisTestServer redis, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseRedisClustering(redis.ConnectionString)
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = "agent-theater";
            }));
        var host = builder.Build();
        await host.StartAsync(Cancel);
        return host;
    }

    private static async Task<Dictionary<string, int>> LinesAsync(IClusterClient grains, IReadOnlyList<string> keys)
    {
        var statuses = await Task.WhenAll(keys.Select(k => grains.GetGrain<ISceneGrain>(k).GetStatus()));
        return statuses.ToDictionary(s => s.SceneKey, s => s.Lines);
    }

    private static List<SceneLine> ReadLines(string path)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) } };
        return [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<SceneLine>(l, options)!)];
    }



    /// <summary>One standalone silo process of the test's cluster, with its own ports.</summary>
    private sealed class SiloProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output;
        private readonly HttpClient _http;

        private SiloProcess(string name, Process process, int httpPort)
        {
            Name = name;
            _process = process;
            _output = TestProcesses.Collect(process);
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        }

        public string Name { get; }

        /// <summary>Starts a silo; with a model it hosts the pool and declares gpu=true.</summary>
        public static SiloProcess Start(string name, RedisTestServer redis, string clusterId, string? modelPath)
        {
            var httpPort = TestProcesses.FreePort();
            var arguments = new List<string>
            {
                "--Cluster:Provider=Redis",
                $"--Cluster:RedisConnectionString={redis.ConnectionString}",
                "--Cluster:AdvertisedIPAddress=127.0.0.1",
                $"--Cluster:SiloPort={TestProcesses.FreePort()}",
                $"--Cluster:GatewayPort={TestProcesses.FreePort()}",
                $"--Cluster:SiloName={name}",
                $"--Cluster:ClusterId={clusterId}",
                "--Storage:Provider=Redis",
                $"--Http:Port={httpPort}",
                "--Attribution:Enabled=false",
                "--Logging:LogLevel:Default=Warning",
            };
            if (modelPath is not null)
            {
                arguments.AddRange(
                [
                    "--Cluster:Metadata:gpu=true",
                    $"--Inference:ModelPath={modelPath}",
                    "--Inference:MaxSequences=8",
                    "--Inference:SequenceContextLength=2048",
                    "--Inference:Threads=1",
                    "--Inference:WaitWhenBusy=true",
                ]);
            }

            return new SiloProcess(name, TestProcesses.StartDotnet(TestProcesses.SiloAssembly(), [.. arguments]), httpPort);
        }

        public Task WaitReadyAsync() => TestProcesses.WaitReadyAsync(_http, _process, _output);

        public async Task<JsonElement> StatusAsync()
        {
            using var status = JsonDocument.Parse(await _http.GetStringAsync(new Uri("/status", UriKind.Relative), Cancel));
            return status.RootElement.Clone();
        }

        /// <summary>SIGKILL: the silo gets no chance to leave the cluster or hand anything over.</summary>
        public void Kill() => _process.Kill();

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await TestProcesses.StopAsync(_process);
        }
    }
}
