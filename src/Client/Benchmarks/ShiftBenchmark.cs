using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Client.Benchmarks;

/// <summary>
/// How far a context shift moves the next line's log-probabilities. A character's prompt drops a chunk of its oldest
/// lines; the pool removes those cells and moves the kept ones back (<c>llama_memory_seq_rm</c> +
/// <c>llama_memory_seq_add</c>), but the kept cells were computed while the dropped lines were still there. Each trial
/// scores the same next line three ways: through the shifted cache, after a fresh prefill of the same trimmed prompt
/// (the exact answer), and after the untrimmed prompt (what trimming itself changes, for scale).
/// </summary>
internal static class ShiftBenchmark
{
    /// <summary>Plays <paramref name="lines"/> lines of <paramref name="scenario"/>'s first scene, then runs <paramref name="trials"/> trials.</summary>
    public static async Task<ShiftMeasurement> RunAsync(
        InferencePool pool, ScenarioDefinition scenario, int lines, int trials, IProgress<(int Done, int Total)> progress, CancellationToken cancellationToken)
    {
        var scene = scenario.Scenes[0];
        var cast = scene.Present.Select(scenario.Character).ToList();
        var names = cast.Select(c => c.Name).ToList();
        var castings = cast.Select(c => new CharacterCasting("bench/shift/0", c, scene.Setting, names, scenario.Sampling)).ToList();
        var transcript = new List<SceneLine>();
        for (var i = 0; i < lines; i++)
        {
            var casting = castings[i % castings.Count];
            var reply = await pool.GenerateAsync(
                new GenerationRequest
                {
                    SessionKey = $"speaker/{casting.Persona.Id}",
                    Prompt = DialoguePrompt.Build(casting, transcript),
                    MaxTokens = 40,
                    StopStrings = DialoguePrompt.StopStrings(casting),
                    Sampling = new SamplingOptions { Temperature = 0.8f, TopP = 0.95f, TopK = 40, RepetitionPenalty = 1.1f, Seed = (uint)(1000 + i) },
                },
                cancellationToken).ConfigureAwait(false);
            transcript.Add(new SceneLine(i, i, LineKind.Character, casting.Persona.Id, casting.Persona.Name, DialoguePrompt.Flatten(reply.Text)));
            progress.Report((i + 1, lines + trials));
        }

        var random = new Random(7);
        var shifted = new List<double>();
        var trimmed = new List<double>();
        var shiftedLines = new List<double>();
        var trimmedLines = new List<double>();
        var shiftsBefore = pool.Statistics.ContextShifts;
        for (var trial = 0; trial < trials; trial++)
        {
            // A cache holding lines [first, next) after an earlier cut; the prompt now drops [first, cut) as well.
            var next = random.Next(lines / 2, lines);
            var first = random.Next(1, next / 4 + 1);
            var cut = random.Next(first + 1, first + Math.Max(2, (next - first) / 2));
            var casting = castings[next % castings.Count];
            var continuation = " " + transcript[next].Text;
            var session = $"shift/{trial}";
            var before = DialoguePrompt.Build(casting, transcript[first..next], omittedEarlier: true);
            var after = DialoguePrompt.Build(casting, transcript[cut..next], omittedEarlier: true);
            await pool.PrefillAsync(session, before, cancellationToken).ConfigureAwait(false);
            var throughShift = await pool.ScoreAsync(new ScoreRequest { SessionKey = session, Prompt = after, Continuation = continuation }, cancellationToken).ConfigureAwait(false);
            var fresh = await pool.ScoreAsync(new ScoreRequest { Prompt = after, Continuation = continuation }, cancellationToken).ConfigureAwait(false);
            var untrimmed = await pool.ScoreAsync(new ScoreRequest { Prompt = before, Continuation = continuation }, cancellationToken).ConfigureAwait(false);
            pool.ForgetSession(session);
            if (fresh.TokenLogProbabilities.Count != throughShift.TokenLogProbabilities.Count || fresh.TokenLogProbabilities.Count != untrimmed.TokenLogProbabilities.Count)
            {
                continue;
            }

            shifted.AddRange(fresh.TokenLogProbabilities.Zip(throughShift.TokenLogProbabilities, (a, b) => Math.Abs(a - b)));
            trimmed.AddRange(fresh.TokenLogProbabilities.Zip(untrimmed.TokenLogProbabilities, (a, b) => Math.Abs(a - b)));
            shiftedLines.Add(Math.Abs(fresh.LogProbability - throughShift.LogProbability));
            trimmedLines.Add(Math.Abs(fresh.LogProbability - untrimmed.LogProbability));
            progress.Report((lines + trial + 1, lines + trials));
        }

        return new ShiftMeasurement(
            shiftedLines.Count,
            pool.Statistics.ContextShifts - shiftsBefore,
            new ShiftError(Mean(shifted), Percentiles.Of(shifted, 0.95), Mean(shiftedLines)),
            new ShiftError(Mean(trimmed), Percentiles.Of(trimmed, 0.95), Mean(trimmedLines)));
    }

    private static double Mean(List<double> values) => values.Count == 0 ? 0 : values.Average();
}

/// <summary>What the trials found.</summary>
/// <param name="Trials">Trials scored.</param>
/// <param name="Shifts">Context shifts the pool made (one per trial when the cache shifts).</param>
/// <param name="ShiftedVsFresh">The shifted cache against a fresh prefill of the same trimmed prompt: the shift's error.</param>
/// <param name="UntrimmedVsTrimmed">The untrimmed prompt against the trimmed one (both fresh): what trimming itself changes.</param>
internal sealed record ShiftMeasurement(int Trials, long Shifts, ShiftError ShiftedVsFresh, ShiftError UntrimmedVsTrimmed);

/// <summary>Absolute differences of log-probabilities, in nats.</summary>
/// <param name="MeanPerToken">Mean over every scored token.</param>
/// <param name="P95PerToken">95th percentile over every scored token.</param>
/// <param name="MeanPerLine">Mean over lines of the whole line's log-probability.</param>
internal sealed record ShiftError(double MeanPerToken, double P95PerToken, double MeanPerLine);
