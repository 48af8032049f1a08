using System.CommandLine;
using System.Globalization;
using AgentTheater.Client.Benchmarks;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater bench shift</c>: how far a shifted cache's next-line log-probabilities are from a fresh prefill of
/// the same trimmed prompt (the figure <c>Inference:ContextShift</c>'s default rests on; docs/performance.md).
/// </summary>
internal static class BenchShiftCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF model (default: the project's model)" };
        var lines = new Option<int>("--lines") { Description = "Lines to play before the trials (the dialogue the prompts are cut from)", DefaultValueFactory = _ => 40 };
        var trials = new Option<int>("--trials") { Description = "Trials: a cache cut and the next line scored three ways", DefaultValueFactory = _ => 60 };
        var command = new Command("shift", "Measure how far a context shift (dropped chunk removed, kept cache moved back) moves the next line's log-probabilities from a fresh prefill, against what trimming itself moves them.")
        {
            model, lines, trials,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var lineCount = CommandErrors.InRange("--lines", result.GetValue(lines), 8, 1000);
            var trialCount = CommandErrors.InRange("--trials", result.GetValue(trials), 1, 10_000);
            var path = DefaultModel.Resolve(result.GetValue(model), Directory.GetCurrentDirectory());
            using var loggers = CommandLogging.LlamaErrorsOnly();
            LlamaLibrary.Initialize(logger: loggers.CreateLogger("llama.cpp"));
            await using var pool = new InferencePool(new InferencePoolOptions { ModelPath = path, MaxSequences = 8, SequenceContextLength = 2048 }, loggers);
            Console.WriteLine($"bench shift: model {Path.GetFileName(path)} (training context {pool.Model.TrainedContextLength}), {lineCount} lines, {trialCount} trials, the cache {(pool.ShiftsContext ? "shifts" : "cannot shift")}");
            var measured = await ConsoleProgress.ShowAsync(progress => ShiftBenchmark.RunAsync(
                pool,
                Tavern(),
                lineCount,
                trialCount,
                new Progress<(int Done, int Total)>(p => progress.Report(new ProgressUpdate(p.Done, p.Total, $"{p.Done}/{p.Total} (lines, then trials)"))),
                cancellationToken));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                | next line's log-probabilities | mean abs diff per token (nats) | p95 per token | mean abs diff per line |
                |---|---:|---:|---:|
                | shifted cache vs fresh prefill of the trimmed prompt | {measured.ShiftedVsFresh.MeanPerToken:F4} | {measured.ShiftedVsFresh.P95PerToken:F4} | {measured.ShiftedVsFresh.MeanPerLine:F3} |
                | untrimmed prompt vs trimmed prompt (both fresh) | {measured.UntrimmedVsTrimmed.MeanPerToken:F4} | {measured.UntrimmedVsTrimmed.P95PerToken:F4} | {measured.UntrimmedVsTrimmed.MeanPerLine:F3} |

                {measured.Trials} trials, {measured.Shifts} context shifts
                """));
            return 0;
        }));
        return command;
    }

    /// <summary>A four-character inn scene: the characters whose lines the trials cut.</summary>
    private static ScenarioDefinition Tavern() => BenchCast.Scenario(4, 100, TurnPolicy.RoundRobin, seed: 1);
}
