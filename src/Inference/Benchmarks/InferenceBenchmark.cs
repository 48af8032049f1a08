using System.Diagnostics;
using System.Numerics.Tensors;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Benchmarks;

/// <summary>Settings of <see cref="InferenceBenchmark"/>.</summary>
/// <param name="Parallel">Numbers of concurrent sequences to measure.</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="GenerateTokens">Decode steps per sequence.</param>
/// <param name="BatchSize">n_batch for both pool and raw.</param>
/// <param name="Threads">CPU threads (0: the cores this process may use).</param>
/// <param name="Seed">Seed of the random prompts.</param>
/// <param name="UnifiedKv">One KV buffer shared by every sequence instead of one per sequence.</param>
/// <param name="FlashAttention">Flash attention on or off; null for the pool's choice (on a GPU only).</param>
public sealed record InferenceBenchmarkSettings(
    IReadOnlyList<int> Parallel,
    int PromptTokens = 512,
    int GenerateTokens = 32,
    int BatchSize = 2048,
    int Threads = 0,
    int Seed = 1,
    bool UnifiedKv = false,
    bool? FlashAttention = null);

/// <summary>Throughput of one shape.</summary>
/// <param name="PromptTokensPerSecond">Prefill throughput.</param>
/// <param name="DecodeTokensPerSecond">Aggregate decode throughput.</param>
/// <param name="MillisecondsPerStep">Wall time per decode step.</param>
public sealed record ThroughputFigures(double PromptTokensPerSecond, double DecodeTokensPerSecond, double MillisecondsPerStep);

/// <summary>Pool and raw figures for one number of sequences.</summary>
/// <param name="Sequences">Concurrent sequences.</param>
/// <param name="Pool">Through <see cref="InferencePool"/>, null when not measured.</param>
/// <param name="Raw">Straight <c>llama_decode</c> with the same shapes, null when not measured.</param>
public sealed record InferenceBenchmarkRow(int Sequences, ThroughputFigures? Pool, ThroughputFigures? Raw)
{
    /// <summary>Pool decode throughput over raw, or null.</summary>
    public double? DecodeRatio => Pool is not null && Raw is not null ? Pool.DecodeTokensPerSecond / Raw.DecodeTokensPerSecond : null;

    /// <summary>Pool prompt throughput over raw, or null.</summary>
    public double? PromptRatio => Pool is not null && Raw is not null ? Pool.PromptTokensPerSecond / Raw.PromptTokensPerSecond : null;
}

/// <summary>
/// Measures prompt and decode throughput through the pool and, as the ceiling, by driving
/// <c>llama_decode</c> directly with the same shapes: N sequences of random prompt tokens are prefilled in
/// batches of up to n_batch tokens, then each sequence re-feeds its last prompt token and decodes greedily,
/// one token per sequence per step.
/// </summary>
public static class InferenceBenchmark
{
    /// <summary>Runs the benchmark for each N and reports each row as it is measured.</summary>
    public static IEnumerable<InferenceBenchmarkRow> Run(LlamaModel model, InferenceBenchmarkSettings settings, bool pool, bool raw)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var n in settings.Parallel)
        {
            if (n is < 1 or > 256)
            {
                throw new ArgumentOutOfRangeException(nameof(settings), n, $"--parallel value {n} is out of range: 1 to 256 sequences.");
            }
        }

        // Warm-up, not reported: JIT, thread pools and llama.cpp's first graph allocation would otherwise land in the first row.
        var warmUp = settings with { GenerateTokens = 4 };
        var warmUpPrompts = RandomPrompts(model, 2, Math.Min(settings.PromptTokens, 64), settings.Seed + 1);
        _ = pool ? MeasurePool(model, warmUp, warmUpPrompts) : null;
        _ = raw ? MeasureRaw(model, warmUp, warmUpPrompts) : null;

        foreach (var n in settings.Parallel)
        {
            var prompts = RandomPrompts(model, n, settings.PromptTokens, settings.Seed);
            var rawFigures = raw ? MeasureRaw(model, settings, prompts) : null;
            var poolFigures = pool ? MeasurePool(model, settings, prompts) : null;
            yield return new InferenceBenchmarkRow(n, poolFigures, rawFigures);
        }
    }

    private static int ContextLength(InferenceBenchmarkSettings settings) => settings.PromptTokens + settings.GenerateTokens + 8;

    private static int[][] RandomPrompts(LlamaModel model, int count, int length, int seed)
    {
        var random = new Random(seed);
        var prompts = new int[count][];
        for (var i = 0; i < count; i++)
        {
            prompts[i] = new int[length];
            prompts[i][0] = model.BeginOfSequence >= 0 ? model.BeginOfSequence : 0;
            for (var j = 1; j < length; j++)
            {
                int token;
                do
                {
                    token = random.Next(model.VocabularySize);
                }
                while (model.IsEndOfGeneration(token) || token == model.BeginOfSequence);

                prompts[i][j] = token;
            }
        }

        return prompts;
    }

    private static ThroughputFigures MeasurePool(LlamaModel model, InferenceBenchmarkSettings settings, int[][] prompts)
    {
        var options = new InferencePoolOptions
        {
            ModelPath = model.Path,
            MaxSequences = prompts.Length,
            SequenceContextLength = ContextLength(settings),
            BatchSize = settings.BatchSize,
            MicroBatchSize = Math.Min(512, settings.BatchSize),
            Threads = settings.Threads,
            MaxQueuedRequests = Math.Max(prompts.Length, 1),
            UnifiedKv = settings.UnifiedKv,
            FlashAttention = settings.FlashAttention,
        };
        using var pool = new InferencePool(model, options);
        var sessions = Enumerable.Range(0, prompts.Length).Select(i => $"bench-{i}").ToArray();

        // Prefill: every prompt, one token generated.
        var clock = Stopwatch.StartNew();
        Task.WaitAll(prompts.Select((p, i) => pool.GenerateAsync(new GenerationRequest
        {
            SessionKey = sessions[i],
            PromptTokens = p,
            MaxTokens = 1,
            Sampling = SamplingOptions.Greedy,
        })));
        var prefill = clock.Elapsed;

        // Decode: the same prompts on the same sessions re-feed only the last token, then decode in lockstep.
        clock.Restart();
        var results = prompts.Select((p, i) => pool.GenerateAsync(new GenerationRequest
        {
            SessionKey = sessions[i],
            PromptTokens = p,
            MaxTokens = settings.GenerateTokens,
            Sampling = SamplingOptions.Greedy,
            IgnoreEndOfGeneration = true,
        })).ToArray();
        Task.WaitAll(results);
        var decode = clock.Elapsed;
        var generated = results.Sum(r => r.Result.Tokens.Count);
        return new ThroughputFigures(
            prompts.Sum(p => p.Length) / prefill.TotalSeconds,
            generated / decode.TotalSeconds,
            decode.TotalMilliseconds / settings.GenerateTokens);
    }

    private static ThroughputFigures MeasureRaw(LlamaModel model, InferenceBenchmarkSettings settings, int[][] prompts)
    {
        using var context = new LlamaContext(model, new LlamaContextSettings(
            ContextLength(settings),
            prompts.Length,
            settings.BatchSize,
            Math.Min(512, settings.BatchSize),
            settings.Threads > 0 ? settings.Threads : Math.Max(1, Environment.ProcessorCount),
            settings.UnifiedKv,
            new InferencePoolOptions { FlashAttention = settings.FlashAttention }.FlashAttentionFor(LlamaLibrary.Info?.Backend ?? LlamaBackendKind.Cpu)));
        using var batch = new NativeBatch(context.BatchSize);

        var clock = Stopwatch.StartNew();
        var outputs = new List<int>();
        var next = new int[prompts.Length];
        var sequence = 0;
        var position = 0;
        while (sequence < prompts.Length)
        {
            batch.Clear();
            outputs.Clear();
            while (batch.Remaining > 0 && sequence < prompts.Length)
            {
                var last = position == prompts[sequence].Length - 1;
                var index = batch.Add(prompts[sequence][position], position, sequence, wantLogits: last);
                if (last)
                {
                    outputs.Add(index);
                    sequence++;
                    position = 0;
                }
                else
                {
                    position++;
                }
            }

            Decode(context, batch);
            foreach (var index in outputs)
            {
                _ = TensorPrimitives.IndexOfMax(context.Logits(index));
            }
        }

        var prefill = clock.Elapsed;
        for (var s = 0; s < prompts.Length; s++)
        {
            context.RemoveTokens(s, prompts[s].Length - 1);
            next[s] = prompts[s][^1];
        }

        clock.Restart();
        for (var step = 0; step < settings.GenerateTokens; step++)
        {
            batch.Clear();
            for (var s = 0; s < prompts.Length; s++)
            {
                batch.Add(next[s], prompts[s].Length - 1 + step, s, wantLogits: true);
            }

            Decode(context, batch);
            for (var s = 0; s < prompts.Length; s++)
            {
                next[s] = TensorPrimitives.IndexOfMax(context.Logits(s));
            }
        }

        var decode = clock.Elapsed;
        return new ThroughputFigures(
            prompts.Sum(p => p.Length) / prefill.TotalSeconds,
            prompts.Length * settings.GenerateTokens / decode.TotalSeconds,
            decode.TotalMilliseconds / settings.GenerateTokens);
    }

    private static void Decode(LlamaContext context, NativeBatch batch)
    {
        var code = context.Decode(batch);
        if (code != 0)
        {
            throw new InferenceException($"llama_decode returned {code}: {LlamaLibrary.TakeRecentErrors()}");
        }
    }
}
