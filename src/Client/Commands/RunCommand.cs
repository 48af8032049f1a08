using System.CommandLine;
using AgentTheater.Client.Theater;
using AgentTheater.Grains.Scenarios;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater run FILE</c> and <c>agent-theater validate FILE</c>.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var replicas = new Option<int?>("--replicas") { Description = "Replicas of every scene (overrides the file)" };
        var model = new Option<string?>("--model") { Description = "GGUF model (overrides the file; default: the project's model, else a synthetic one)" };
        var output = new Option<string>("--out") { Description = "Folder for run folders", DefaultValueFactory = _ => "runs" };
        var sequences = new Option<int>("--sequences") { Description = "Pool sequences (KV kept for this many characters at once)", DefaultValueFactory = _ => 64 };
        var context = new Option<int>("--context") { Description = "Tokens per sequence", DefaultValueFactory = _ => 2048 };
        var verbose = new Option<bool>("--verbose") { Description = "Log the silo at Information level" };
        var noAttribution = new Option<bool>("--no-attribution") { Description = "Play without role attribution (embedded silo; a cluster's silos decide for themselves)" };
        var cluster = new Option<string?>("--cluster") { Description = "Play on a running cluster instead of an embedded silo: its gateways (ip:port[,ip:port]) or its Redis membership table (redis://host:port)" };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id of --cluster", DefaultValueFactory = _ => "agent-theater" };
        var serviceId = new Option<string>("--service-id") { Description = "Service id of --cluster", DefaultValueFactory = _ => "agent-theater" };
        var traceSampling = new Option<double>("--trace-sampling") { Description = "Share of traces written to <run>/traces.jsonl by an embedded run (0: no trace file)", DefaultValueFactory = _ => 1.0 };
        var command = new Command("run", "Play a scenario (on an embedded one-silo cluster unless --cluster) and write every transcript under --out/<run id>/.")
        {
            file, replicas, model, output, sequences, context, verbose, noAttribution, cluster, clusterId, serviceId, traceSampling,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var path = result.GetValue(file)!;
            var scenario = ScenarioFile.Load(path);
            if (result.GetValue(replicas) is { } count)
            {
                scenario = scenario with { Replicas = CommandErrors.InRange("--replicas", count, 1, 100_000) };
            }

            var runId = ScenarioRunner.NewRunId(scenario.Name);
            var folder = new RunFolder(Path.Combine(result.GetValue(output)!, runId));
            if (result.GetValue(cluster) is { } gateways)
            {
                await using var remote = await RemoteTheater.ConnectAsync(gateways, result.GetValue(clusterId)!, result.GetValue(serviceId)!, cancellationToken);
                Directory.CreateDirectory(folder.Path);
                folder.WriteRunInfo(new RunInfo(runId, Path.GetFullPath(path), null, gateways));
                Console.Error.WriteLine($"run {runId} on cluster {gateways}: {ScenarioFile.Describe(scenario)}");
                return Report(await ScenarioRunner.RunAsync(remote.Grains, scenario, runId, folder, cancellationToken), folder);
            }

            var sampling = result.GetValue(traceSampling);
            if (sampling is not (>= 0 and <= 1))
            {
                throw new ArgumentException($"--trace-sampling: {sampling} is out of range (0 to 1).", "--trace-sampling");
            }

            var modelPath = DefaultModel.Resolve(result.GetValue(model) ?? scenario.Model, Path.GetDirectoryName(Path.GetFullPath(path))!);
            Directory.CreateDirectory(folder.Path);
            folder.WriteRunInfo(new RunInfo(runId, Path.GetFullPath(path), modelPath, null));
            Console.Error.WriteLine($"run {runId}: {ScenarioFile.Describe(scenario)}");
            Console.Error.WriteLine($"model {modelPath}; state and transcripts in {folder.Path}");

            await using var theater = await EmbeddedTheater.StartAsync(
                new EmbeddedTheaterSettings(
                    modelPath,
                    folder.StatePath,
                    result.GetValue(sequences),
                    result.GetValue(context),
                    result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning,
                    sampling > 0 ? folder.TracesPath : null,
                    sampling,
                    Attribution: !result.GetValue(noAttribution)),
                cancellationToken);
            return Report(await ScenarioRunner.RunAsync(theater.Grains, scenario, runId, folder, cancellationToken), folder);
        }));
        return command;
    }

    private static int Report(RunSummary summary, RunFolder folder)
    {
        Console.WriteLine(ScenarioRunner.Table(summary));
        Console.WriteLine($"transcripts: {folder.ScenesPath}");
        if (File.Exists(folder.TracesPath))
        {
            Console.WriteLine($"traces: {folder.TracesPath}");
        }

        if (summary.Attribution is { } attribution)
        {
            Console.WriteLine($"takeovers: {attribution.Takeovers} (agent-theater takeovers {folder.Path})");
        }

        return summary.Failed == 0 ? 0 : 1;
    }

    public static Command CreateValidate()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var command = new Command("validate", "Check a scenario file and report every error with its file, line and field.") { file };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var scenario = ScenarioFile.Load(result.GetValue(file)!);
            Console.WriteLine($"{result.GetValue(file)}: valid. {ScenarioFile.Describe(scenario)}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
