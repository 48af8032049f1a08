using System.CommandLine;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Client.Runs;
using AgentTheater.Web.Runs;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater run FILE</c>: plays a scenario and writes its run folder.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var replicas = new Option<int?>("--replicas") { Description = "Replicas of every scene (overrides the file)" };
        var output = new Option<string>("--out") { Description = "Folder for run folders", DefaultValueFactory = _ => "runs" };
        var traceSampling = new Option<double>("--trace-sampling") { Description = "Share of traces written to <run>/traces.jsonl by an embedded run (0: no trace file)", DefaultValueFactory = _ => 1.0 };
        var theaterOptions = TheaterOptions.EmbeddedOrCluster(
            new PoolDefaults(Sequences: 64, Context: 2048),
            "GGUF model (overrides the file; default: the project's model, else a synthetic one)");
        var command = new Command("run", "Play a scenario (on an embedded one-silo cluster unless --cluster) and write every transcript under --out/<run id>/.")
        {
            file, replicas, output, traceSampling,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var path = result.GetValue(file)!;
            var scenario = ScenarioFile.Load(path);
            if (result.GetValue(replicas) is { } count)
            {
                scenario = scenario with { Replicas = CommandErrors.InRange("--replicas", count, 1, 100_000) };
            }

            var settings = theaterOptions.Read(result);
            var sampling = result.GetValue(traceSampling);
            if (sampling is not (>= 0 and <= 1))
            {
                throw new ArgumentException($"--trace-sampling: {sampling} is out of range (0 to 1).", "--trace-sampling");
            }

            // An embedded run checks its model before it writes or starts anything: a bad file is one line, and no run folder.
            var scenarioPath = Path.GetFullPath(path);
            var model = settings.Cluster is null
                ? DefaultModel.Check(DefaultModel.Resolve(settings.Model ?? scenario.Model, Path.GetDirectoryName(scenarioPath)!))
                : null;
            var runId = RunRecord.NewRunId(scenario.Name);
            var folder = new RunFolder(Path.Combine(result.GetValue(output)!, runId));
            Console.Error.WriteLine($"run {runId}{(settings.Cluster is { } on ? $" on cluster {on.Target}" : "")}: {ScenarioFile.Describe(scenario)}");
            await using var theater = settings.Cluster is { } cluster
                ? await ConnectAsync(settings, cluster, scenarioPath, runId, folder, cancellationToken)
                : await StartEmbeddedAsync(settings, scenarioPath, model!, runId, folder, sampling, cancellationToken);
            var summary = await ConsoleProgress.ShowAsync(progress => ScenarioRunner.RunAsync(theater.Grains, scenario, runId, folder, progress, cancellationToken));
            return Report(summary, folder);
        }));
        return command;
    }

    private static async Task<ITheater> ConnectAsync(
        TheaterSettings settings, ClusterAddress cluster, string scenarioPath, string runId, RunFolder folder, CancellationToken cancellationToken)
    {
        var theater = await Theater.OpenAsync(settings, silo: null, cancellationToken);
        Directory.CreateDirectory(folder.Path);
        folder.WriteText(RunLauncher.ScenarioFileName, File.ReadAllText(scenarioPath));
        folder.WriteRunInfo(new RunInfo(runId, scenarioPath, null, cluster.Target));
        return theater;
    }

    private static Task<ITheater> StartEmbeddedAsync(
        TheaterSettings settings, string scenarioPath, string model, string runId, RunFolder folder, double traceSampling, CancellationToken cancellationToken)
    {
        // The silo keeps its state in the run folder, so the folder comes first.
        Directory.CreateDirectory(folder.Path);
        folder.WriteText(RunLauncher.ScenarioFileName, File.ReadAllText(scenarioPath));
        folder.WriteRunInfo(new RunInfo(runId, scenarioPath, model, null));
        Console.Error.WriteLine($"model {model}; state and transcripts in {folder.Path}");
        return Theater.OpenAsync(settings, new EmbeddedSilo(model, folder.StatePath, traceSampling > 0 ? folder.TracesPath : null, traceSampling), cancellationToken);
    }

    private static int Report(RunSummary summary, RunFolder folder)
    {
        Console.WriteLine(RunRecord.Table(summary));
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
}
