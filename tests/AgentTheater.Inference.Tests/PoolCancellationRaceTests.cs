using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// Requests cancelled while their prompt is still being fed, with others waiting for their sequence: whoever gets
/// the freed sequence goes on exactly as if it ran alone, nothing fails, and the counters come back to zero.
/// </summary>
public sealed class PoolCancellationRaceTests(TinyModelFixture fixture)
{
    /// <summary>Small, so a prompt of a hundred tokens takes several steps to feed and a cancellation lands mid-prefill.</summary>
    private const int Batch = 16;

    private const int MaxTokens = 6;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Generate_CancelledMidPrefillWhileAnotherWaits_TheNextRequestOnItsSequenceMatchesItsAloneRun()
    {
        using var pool = fixture.CreatePool(sequences: 1, batch: Batch, configure: Options(hostKvMegabytes: 0));
        var random = new Random(1);
        var shared = RandomTokens(random, 24);
        int[] cancelled = [SyntheticVocabulary.BosId, .. shared, .. RandomTokens(random, 100)];
        int[] next = [SyntheticVocabulary.BosId, .. shared, .. RandomTokens(random, 60)];
        var alone = await RunAloneAsync(next);

        // One sequence: the second request waits until the first is cancelled, two steps into its prefill (32 of its
        // 125 tokens fed), and is then given that sequence, holding its shared prefix, in the same scheduler turn.
        using var cancel = new CancellationTokenSource();
        var steps = 0;
        pool.StepCompleted += _ =>
        {
            if (++steps == 2)
            {
                cancel.Cancel();
            }
        };
        var first = pool.GenerateAsync(Request(cancelled), cancel.Token);
        var second = pool.GenerateAsync(Request(next), Timeout);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(alone, (await second).Tokens);
        Assert.Equal(1, pool.Statistics.Cancelled);
        Assert.Equal(0, pool.Statistics.Running);
        Assert.Equal(0, pool.Statistics.InFlight);
    }

    [Fact]
    public async Task Generate_RandomCancellationsDuringPrefill_EveryOtherRequestMatchesItsAloneRun()
    {
        // POOL_RACE_SEED replays a failed run; without it every run tries new schedules.
        var seed = int.TryParse(Environment.GetEnvironmentVariable("POOL_RACE_SEED"), out var given) ? given : Random.Shared.Next();
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed} (POOL_RACE_SEED={seed} replays it)");
        var random = new Random(seed);

        // Three sequences for six or so requests, so cancelled ones free a sequence someone is waiting for; sessions
        // (with the host tier) make some of them evict, park and restore each other across rounds.
        using var pool = fixture.CreatePool(sequences: 3, batch: Batch, configure: Options(hostKvMegabytes: 64));
        using var schedule = new CancellationSchedule();
        pool.StepCompleted += _ => schedule.OnStep();

        // Prompts share one of a few beginnings, so the request given a cancelled one's sequence often reuses part of
        // what it fed: the case where both would write the same positions.
        int[][] beginnings = [.. Enumerable.Range(0, 3).Select(_ => RandomTokens(random, 24))];
        var alone = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        var cancelledTotal = 0;
        for (var round = 0; round < 40; round++)
        {
            var requests = new List<(int[] Prompt, Task<GenerationResult> Result, bool Cancellable, string? Session)>();
            var count = random.Next(4, 8);
            schedule.StartRound();
            var cancelledBefore = pool.Statistics.Cancelled;
            for (var i = 0; i < count; i++)
            {
                int[] prompt = [SyntheticVocabulary.BosId, .. beginnings[random.Next(beginnings.Length)], .. RandomTokens(random, random.Next(24, 120))];
                var session = random.Next(3) == 0 ? $"s{random.Next(4)}" : null;

                // About half are cancelled, after 1 to 12 steps of this round: mostly mid-prefill, some still waiting.
                var cancellable = random.Next(2) == 0;
                var token = cancellable ? schedule.Add(random.Next(1, 13)) : Timeout;
                requests.Add((prompt, pool.GenerateAsync(Request(prompt) with { SessionKey = session }, token), cancellable, session));
            }

            // Counted from here: a step of the last round ending now must not cancel a request before the pool has it.
            schedule.Arm();
            var cancelled = 0;
            foreach (var (prompt, result, cancellable, session) in requests)
            {
                GenerationResult generated;
                try
                {
                    generated = await result;
                }
                catch (OperationCanceledException) when (cancellable)
                {
                    cancelled++;
                    continue;
                }
                catch (Exception e)
                {
                    Assert.Fail($"seed {seed}, round {round}: a request failed: {e}");
                    throw;
                }

                var mismatch = await GreedyMismatchAsync(prompt, generated.Tokens, alone);
                Assert.True(
                    mismatch is null,
                    $"seed {seed}, round {round}: [{string.Join(' ', generated.Tokens)}] {mismatch} "
                    + $"(session {session ?? "none"}, {generated.ReusedTokens} of {generated.PromptTokens} prompt tokens reused, {pool.Statistics.Restores} restores so far)");
            }

            cancelledTotal += cancelled;
            Assert.True(pool.Statistics.Cancelled - cancelledBefore == cancelled, $"seed {seed}, round {round}: {pool.Statistics.Cancelled - cancelledBefore} counted cancelled, {cancelled} were");
            Assert.True(pool.Statistics.Running == 0, $"seed {seed}, round {round}: {pool.Statistics.Running} still counted running");
            Assert.True(pool.Statistics.InFlight == 0, $"seed {seed}, round {round}: {pool.Statistics.InFlight} still counted in flight");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{cancelledTotal} cancelled, {pool.Statistics.Steps} steps, {pool.Statistics.Restores} restores");

        // The schedule did what it is for.
        Assert.True(cancelledTotal >= 10, $"seed {seed}: only {cancelledTotal} requests were cancelled");
    }

    /// <summary>
    /// Whether <paramref name="generated"/> is what greedy decoding gives after <paramref name="prompt"/>, as a pool with
    /// nothing else running decodes it; null when it is, else why not. Batching other sequences with a request changes
    /// llama.cpp's sums in their last bits, so where the two best tokens are all but tied (the tiny model's logits are
    /// close) the request may take the other: a token that differs from the one run alone counts when their
    /// log-probabilities, scored alone after the same tokens, are within <see cref="TieNats"/>; the rest is checked from
    /// there. A sequence fed into by another request, or missing cells, gives tokens far from the best.
    /// </summary>
    private async Task<string?> GreedyMismatchAsync(int[] prompt, IReadOnlyList<int> generated, Dictionary<string, IReadOnlyList<int>> alone)
    {
        var context = prompt.ToList();
        var at = 0;
        while (at < generated.Count)
        {
            var key = $"{MaxTokens - at}:{string.Join(',', context)}";
            if (!alone.TryGetValue(key, out var expected))
            {
                expected = alone[key] = await RunAloneAsync([.. context], MaxTokens - at);
            }

            var same = 0;
            while (at + same < generated.Count && same < expected.Count && expected[same] == generated[at + same])
            {
                same++;
            }

            context.AddRange(generated.Skip(at).Take(same));
            at += same;
            if (at == generated.Count)
            {
                return null;
            }

            if (same == expected.Count)
            {
                return $"is longer than its alone run's [{string.Join(' ', expected)}]";
            }

            var (taken, best) = (generated[at], expected[same]);
            var takenScore = await ScoreAloneAsync(context, taken);
            var bestScore = await ScoreAloneAsync(context, best);
            if (bestScore - takenScore > TieNats)
            {
                return $"takes {taken} at token {at} where its alone run takes {best}: {takenScore:F4} against {bestScore:F4} nats, not a tie";
            }

            context.Add(taken);
            at++;
        }

        return null;
    }

    /// <summary>Greedy's best and a token it may take instead when batched with others: within this many nats.</summary>
    private const double TieNats = 1e-3;

    private async Task<double> ScoreAloneAsync(IReadOnlyList<int> context, int token)
    {
        using var pool = fixture.CreatePool(sequences: 1, batch: Batch, configure: Options(hostKvMegabytes: 0));
        return (await pool.ScoreAsync(new ScoreRequest { PromptTokens = [.. context], ContinuationTokens = [token] }, Timeout)).LogProbability;
    }

    private static GenerationRequest Request(int[] prompt) => new()
    {
        PromptTokens = prompt,
        MaxTokens = MaxTokens,
        IgnoreEndOfGeneration = true,
        Sampling = SamplingOptions.Greedy,
    };

    /// <summary>
    /// One llama.cpp thread: its threads spin while they wait for each other, and on a 2-core machine that is busy
    /// with other work two of them make every step crawl.
    /// </summary>
    private static Action<InferencePoolOptions> Options(int hostKvMegabytes) => o =>
    {
        o.HostKvMegabytes = hostKvMegabytes;
        o.Threads = 1;
    };

    /// <summary>Random ordinary tokens (past the special ones).</summary>
    private int[] RandomTokens(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => random.Next(SyntheticVocabulary.EosId + 1, fixture.Model.VocabularySize))];

    /// <summary>The request's tokens on a pool of its own, with nothing else running and nothing cached.</summary>
    private async Task<IReadOnlyList<int>> RunAloneAsync(int[] prompt, int maxTokens = MaxTokens)
    {
        using var pool = fixture.CreatePool(sequences: 1, batch: Batch, configure: Options(hostKvMegabytes: 0));
        return (await pool.GenerateAsync(Request(prompt) with { MaxTokens = maxTokens }, Timeout)).Tokens;
    }

    /// <summary>
    /// Cancels requests after a given number of steps of the round, from the step event: on the scheduler thread,
    /// between a step and the scheduler's next turn, which is where a cancellation and an admission meet.
    /// </summary>
    private sealed class CancellationSchedule : IDisposable
    {
        private readonly List<(int Step, CancellationTokenSource Source)> _pending = [];
        private int _steps;
        private bool _armed;

        public void StartRound() => Dispose();

        public void Arm()
        {
            lock (_pending)
            {
                _armed = true;
            }
        }

        public void Dispose()
        {
            lock (_pending)
            {
                _steps = 0;
                _armed = false;
                foreach (var (_, source) in _pending)
                {
                    source.Dispose();
                }

                _pending.Clear();
            }
        }

        public CancellationToken Add(int step)
        {
            var source = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
            lock (_pending)
            {
                _pending.Add((step, source));
            }

            return source.Token;
        }

        public void OnStep()
        {
            lock (_pending)
            {
                if (!_armed)
                {
                    return;
                }

                _steps++;
                foreach (var (step, source) in _pending)
                {
                    if (step == _steps)
                    {
                        source.Cancel();
                    }
                }
            }
        }
    }
}
