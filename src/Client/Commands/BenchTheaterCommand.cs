using System.CommandLine;
using AgentTheater.Client.Benchmarks;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Web.Runs;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater bench theater</c>: plays a scenario on an embedded silo and reports what it cost, with the pool's
/// own counters (re-prefilled tokens, host KV tier saves and restores); <c>--compare-tiers</c> plays it three times in
/// one process: tier off and tier on at the given sequences, and resident with a sequence for every session.
/// </summary>
internal static class BenchTheaterCommand
{
    public static Command Create()
    {
        var scenario = new Option<string>("--scenario") { Description = "Scenario YAML file", Required = true };
        var replicas = new Option<int?>("--replicas") { Description = "Replicas of every scene (default: the file's)" };
        var compare = new Option<bool>("--compare-tiers") { Description = "Play three times in this process: tier off, tier on (both at --sequences) and resident (a sequence for every session)" };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file (with --compare-tiers: {\"tierOff\", \"tierOn\", \"resident\"})" };
        var theaterOptions = TheaterOptions.Embedded(new PoolDefaults(Sequences: 16, Context: 2048), "GGUF model (default: the scenario's, else the project's model)", attributionSwitch: true);
        var command = new Command("theater", "Play a scenario on an embedded silo and report generated, prefilled and re-prefilled tokens, KV tier saves and restores, tokens/s, line latency, attribution's share and peak memory.")
        {
            scenario, replicas, compare, json,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var file = result.GetValue(scenario)!;
            var loaded = ScenarioFile.Load(file);
            if (result.GetValue(replicas) is { } count)
            {
                loaded = loaded with { Replicas = CommandErrors.InRange("--replicas", count, 1, 100_000) };
            }

            var jsonFile = CommandErrors.WritablePath("--json", result.GetValue(json));

            var settings = theaterOptions.Read(result);
            var model = DefaultModel.Resolve(settings.Model ?? loaded.Model, Path.GetDirectoryName(Path.GetFullPath(file))!);
            var sessions = (loaded.Scenes.Sum(s => s.Present.Count + 1) * loaded.Replicas) + 1;
            var plays = result.GetValue(compare)
                ? new (string Name, TheaterSettings Settings)[]
                {
                    ("tierOff", settings with { HostKvMegabytes = 0 }),
                    ("tierOn", settings),
                    ("resident", settings with { HostKvMegabytes = 0, Sequences = Math.Min(256, sessions) }),
                }
                : [("run", settings)];
            Console.WriteLine($"bench theater: {file}, {loaded.Replicas} replicas, model {Path.GetFileName(model)}, attribution {(settings.Attribution ? "on" : "off")}, {Environment.ProcessorCount} cores");
            var figures = new List<TheaterBenchFigures>();
            foreach (var (name, played) in plays)
            {
                Console.WriteLine($"{name}: {played.Sequences} sequences");
                figures.Add(await ConsoleProgress.ShowAsync(progress => TheaterBenchmark.PlayAsync(name, played, model, loaded, progress, cancellationToken)));
            }

            Console.WriteLine();
            Console.Write(TheaterBenchmark.Table(figures));
            if (jsonFile is not null)
            {
                RunFolder.WriteAtomically(jsonFile, TheaterBenchmark.ToJson(figures));
                Console.WriteLine($"written {jsonFile}");
            }

            return 0;
        }));
        return command;
    }
}
