using System.CommandLine;
using System.Globalization;
using AgentTheater.Client.Benchmarks;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater bench scene</c>: one long scene on an embedded silo, measured per window of turns (prefill and time
/// per line, lines dropped from contexts, lines per character). It only measures: a scene that fails is reported as
/// failed, with the windows played so far, and a non-zero exit code.
/// </summary>
internal static class BenchSceneCommand
{
    /// <summary>Exit code of a scene that failed (the windows so far are still printed and written).</summary>
    public const int SceneFailed = 1;

    private static readonly (string Name, TurnPolicy Policy)[] Policies =
        [("round-robin", TurnPolicy.RoundRobin), ("addressed", TurnPolicy.Addressed), ("director", TurnPolicy.Director)];

    public static Command Create()
    {
        var characters = new Option<int>("--characters") { Description = $"Characters of the generated cast (2 to {BenchCast.MaxCharacters}); not with --scenario", DefaultValueFactory = _ => 6 };
        var turns = new Option<int>("--turns") { Description = "Character turns to play (1 to 10,000)", DefaultValueFactory = _ => 1000 };
        var policy = new Option<string>("--policy") { Description = "Turn policy: round-robin, addressed or director", DefaultValueFactory = _ => "director" };
        var scenario = new Option<string?>("--scenario") { Description = "Play this scenario's first scene and its cast instead of a generated one (--turns and --policy still apply; its stop phrases do not)" };
        var window = new Option<int>("--window") { Description = "Turns per window of the table (1 to 10,000)", DefaultValueFactory = _ => 100 };
        var json = new Option<string?>("--json") { Description = "Also write the result as JSON to this file (written atomically, also when the scene fails)" };
        var output = new Option<string?>("--out") { Description = "Also write the header and table as Markdown to this file" };
        var seed = new Option<long?>("--seed") { Description = "Base seed of the lines (default: 1, or the scenario's)" };
        var attribution = new Option<bool>("--attribution") { Description = "Attribute every line's role while playing (off by default: the benchmark measures the scene)" };
        var theaterOptions = TheaterOptions.Embedded(new PoolDefaults(Sequences: 16, Context: 2048), "GGUF model (default: the scenario's, else the project's model)");
        var command = new Command("scene", "Play one long scene (a generated cast, or --scenario's first scene) on an embedded silo and report, per window of turns: prefill tokens and pool time per line, lines dropped from contexts, lines per character.")
        {
            characters, turns, policy, scenario, window, json, output, seed, attribution,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var turnCount = CommandErrors.InRange("--turns", result.GetValue(turns), 1, 10_000);
            var windowSize = CommandErrors.InRange("--window", result.GetValue(window), 1, 10_000);
            var turnPolicy = ParsePolicy("--policy", result.GetValue(policy)!);
            var jsonFile = CommandErrors.WritablePath("--json", result.GetValue(json));
            var markdownFile = CommandErrors.WritablePath("--out", result.GetValue(output));
            var scenarioFile = result.GetValue(scenario);
            if (scenarioFile is not null && result.GetResult(characters) is { Implicit: false })
            {
                throw new ArgumentException("--characters: the cast comes from --scenario; give one of them.", "--characters");
            }

            var played = scenarioFile is null
                ? BenchCast.Scenario(CommandErrors.InRange("--characters", result.GetValue(characters), 2, BenchCast.MaxCharacters), turnCount, turnPolicy, result.GetValue(seed) ?? 1)
                : FromFile(scenarioFile, turnCount, turnPolicy, result.GetValue(seed));
            var scene = played.Scenes[0];

            // Attribution is off unless asked for: it scores every line, which would be measured as the scene's cost.
            var settings = theaterOptions.Read(result) with { Attribution = result.GetValue(attribution) };
            var model = DefaultModel.Resolve(
                settings.Model ?? played.Model,
                scenarioFile is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(scenarioFile))!);
            var cast = scene.Present.Select(id => played.Character(id)).Select(c => new BenchCastMember(c.Id, c.Name, c.Role)).ToList();
            var header = string.Create(CultureInfo.InvariantCulture,
                $"bench scene: model {Path.GetFileName(model)}, {cast.Count} characters ({string.Join(", ", cast.Select(c => $"{c.Name} ({c.Role})"))}), " +
                $"policy {PolicyName(turnPolicy)}, {turnCount:N0} turns, windows of {windowSize:N0}, pool {settings.Sequences} x {settings.Context} tokens, " +
                $"attribution {(settings.Attribution ? "on" : "off")}, seed {played.Sampling.Seed}, {Environment.ProcessorCount} cores");
            Console.WriteLine(header);

            // The silo's state is only the benchmark's working storage.
            SceneBenchRun run;
            using (var scratch = new ScratchFolder())
            {
                await using var theater = await Theater.OpenAsync(settings, new EmbeddedSilo(model, Path.Combine(scratch.Path, "state.db")), cancellationToken);
                run = await ConsoleProgress.ShowAsync(progress => SceneBenchmark.PlayAsync(theater.Grains, played, windowSize, progress, cancellationToken));
            }

            return Report(run, cast, turnCount, windowSize, turnPolicy, model, header, jsonFile, markdownFile);
        }));
        return command;
    }

    private static int Report(
        SceneBenchRun run, List<BenchCastMember> cast, int turns, int window, TurnPolicy policy, string model, string header, string? jsonFile, string? markdownFile)
    {
        var windows = SceneWindows.Compute(run.Transcript, [.. cast.Select(c => c.Id)], window, run.TurnEndSeconds);
        var total = SceneWindows.Total(windows);
        var completed = run.Status.Phase == ScenePhase.Completed;
        var played = run.Transcript.Count(l => l.Kind == LineKind.Character);
        var table = SceneWindows.Markdown(windows, [.. cast.Select(c => (c.Id, c.Name))]);
        var outcome = completed
            ? string.Create(CultureInfo.InvariantCulture, $"completed: {played:N0} of {turns:N0} turns in {run.WallSeconds:N1} s ({run.Status.EndReason})")
            : string.Create(CultureInfo.InvariantCulture, $"FAILED after {played:N0} of {turns:N0} turns ({run.WallSeconds:N1} s): {run.Status.EndReason}");
        var notes = "pool ms/line: queue + generation of the line in the pool; wall ms/turn: as the client saw the lines arrive " +
            "(choosing the speaker included); lines dropped: lines newly left out of the speakers' contexts (growth of each " +
            "speaker's omitted lines, summed); max omitted: the most lines one prompt of the window left out.";
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine();
        Console.WriteLine(outcome);
        Console.WriteLine(notes);
        var report = new SceneBenchReport(
            completed,
            completed ? null : run.Status.EndReason,
            run.Status.EndReason,
            played,
            turns,
            window,
            policy,
            model,
            cast,
            run.WallSeconds,
            total,
            windows);
        if (jsonFile is not null)
        {
            report.WriteJson(jsonFile);
            Console.WriteLine($"written {jsonFile}");
        }

        if (markdownFile is not null)
        {
            File.WriteAllText(markdownFile, $"{header}\n\n{table}\n{outcome}\n\n{notes}\n");
            Console.WriteLine($"written {markdownFile}");
        }

        if (!completed)
        {
            Console.Error.WriteLine($"agent-theater: error: the scene failed after {played} turns: {run.Status.EndReason}");
            return SceneFailed;
        }

        return 0;
    }

    /// <summary>The file's first scene and the characters in it, played for <paramref name="turns"/> under <paramref name="policy"/>.</summary>
    private static ScenarioDefinition FromFile(string path, int turns, TurnPolicy policy, long? seed)
    {
        var file = ScenarioFile.Load(path);
        var scene = file.Scenes[0] with { MaxTurns = turns, Policy = policy, StopPhrases = [] };
        return file with
        {
            Characters = [.. scene.Present.Select(file.Character)],
            Scenes = [scene],
            Replicas = 1,
            Sampling = seed is { } s ? file.Sampling with { Seed = s } : file.Sampling,
        };
    }

    private static TurnPolicy ParsePolicy(string option, string text) =>
        Policies.FirstOrDefault(p => p.Name == text) is { Name: not null } found
            ? found.Policy
            : throw new ArgumentException($"{option}: '{text}' is not a turn policy (round-robin, addressed, director).", option);

    private static string PolicyName(TurnPolicy policy) => Policies.First(p => p.Policy == policy).Name;
}
