using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Tests;

public sealed class InferencePoolTests(TinyModelFixture fixture)
{
    private static readonly string[] Prompts =
    [
        "The innkeeper wiped the counter and said:",
        "Captain Mora looked at the map. We sail at dawn, she said, and",
        "Twenty questions. Is it bigger than a bread box? No. Is it alive?",
        "A stranger walked into the tavern",
        "Once upon a time in a small village by the sea there lived a",
        "Q: What is the capital of the moon?\nA:",
    ];

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Generate_GreedyPromptsBatchedTogether_GiveTheTokensEachGivesAlone()
    {
        using var pool = fixture.CreatePool();
        var alone = new List<IReadOnlyList<int>>();
        foreach (var prompt in Prompts)
        {
            var result = await pool.GenerateAsync(Greedy(prompt, 16), Timeout);
            alone.Add(result.Tokens);
        }

        var stepsBefore = pool.Statistics.Steps;
        var together = await Task.WhenAll(Prompts.Select(p => pool.GenerateAsync(Greedy(p, 16), Timeout)));

        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(alone[i], together[i].Tokens);
        }

        // Batched: far fewer steps than running them one after another (6 x 16 decode steps).
        Assert.True(pool.Statistics.Steps - stepsBefore <= 20, $"took {pool.Statistics.Steps - stepsBefore} steps");
        Assert.All(alone, tokens => Assert.Equal(16, tokens.Count));
    }

    [Fact]
    public async Task Generate_SecondRequestOnSession_MatchesColdRunAndPrefillsOnlyTheNewSuffix()
    {
        using var pool = fixture.CreatePool();
        var session = $"character-{Guid.NewGuid():N}";
        var first = await pool.GenerateAsync(Greedy(Prompts[0], 12) with { SessionKey = session }, Timeout);
        var secondPrompt = Prompts[0] + first.Text + "\nThe stranger answered:";

        var second = await pool.GenerateAsync(Greedy(secondPrompt, 12) with { SessionKey = session }, Timeout);
        var cold = await pool.GenerateAsync(Greedy(secondPrompt, 12) with { SessionKey = $"cold-{Guid.NewGuid():N}" }, Timeout);

        Assert.Equal(cold.Tokens, second.Tokens);
        var full = fixture.Model.Tokenize(secondPrompt);
        int[] cached = [.. fixture.Model.Tokenize(Prompts[0]), .. first.Tokens.Take(first.Tokens.Count - 1)];
        var shared = 0;
        while (shared < Math.Min(cached.Length, full.Length) && cached[shared] == full[shared])
        {
            shared++;
        }

        Assert.Equal(full.Length - Math.Min(shared, full.Length - 1), second.PrefillTokens);
        Assert.True(second.PrefillTokens < full.Length / 2, $"prefilled {second.PrefillTokens} of {full.Length}");
        Assert.Equal(full.Length, cold.PrefillTokens);
    }

    [Fact]
    public async Task Fork_GreedyBranches_ContinueExactlyLikeTheOriginalWithoutPrefill()
    {
        using var pool = fixture.CreatePool();
        var source = $"source-{Guid.NewGuid():N}";
        var start = await pool.GenerateAsync(Greedy(Prompts[1], 8) with { SessionKey = source }, Timeout);
        var branches = Enumerable.Range(0, 3).Select(i => $"{source}-branch-{i}").ToArray();

        var copied = await pool.ForkAsync(source, branches, Timeout);

        Assert.Equal(fixture.Model.Tokenize(Prompts[1]).Length + start.Tokens.Count - 1, copied);
        var continuation = Prompts[1] + start.Text;
        var results = await Task.WhenAll(branches.Prepend(source).Select(s => pool.GenerateAsync(Greedy(continuation, 10) with { SessionKey = s }, Timeout)));
        Assert.All(results, r => Assert.Equal(results[0].Tokens, r.Tokens));
        Assert.All(results, r => Assert.True(r.PrefillTokens <= 2, $"prefilled {r.PrefillTokens}"));
    }

    [Fact]
    public async Task Fork_SampledBranchesWithOneSeed_RepeatEachOther_AndOtherSeedsDiffer()
    {
        using var pool = fixture.CreatePool();
        var source = $"source-{Guid.NewGuid():N}";
        await pool.GenerateAsync(Greedy(Prompts[4], 4) with { SessionKey = source }, Timeout);
        var branches = Enumerable.Range(0, 4).Select(i => $"{source}-b{i}").ToArray();
        await pool.ForkAsync(source, branches, Timeout);
        var sampling = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = 42 };

        var same = await Task.WhenAll(branches.Take(2).Select(b => pool.GenerateAsync(new GenerationRequest { SessionKey = b, Prompt = Prompts[4], MaxTokens = 24, Sampling = sampling }, Timeout)));
        var other = await Task.WhenAll(branches.Skip(2).Select((b, i) => pool.GenerateAsync(new GenerationRequest { SessionKey = b, Prompt = Prompts[4], MaxTokens = 24, Sampling = sampling with { Seed = (uint)(1000 + i) } }, Timeout)));

        Assert.Equal(same[0].Tokens, same[1].Tokens);
        Assert.NotEqual(same[0].Tokens, other[0].Tokens);
        Assert.NotEqual(other[0].Tokens, other[1].Tokens);
    }

    [Fact]
    public async Task Fork_FromAnEarlierPrompt_DropsTheSourcesLaterTokens_AndBranchesContinueLikeAColdRun()
    {
        using var pool = fixture.CreatePool();
        var source = $"source-{Guid.NewGuid():N}";
        await pool.GenerateAsync(Greedy(Prompts[4] + " fisherman who", 8) with { SessionKey = source }, Timeout);
        var branches = Enumerable.Range(0, 3).Select(i => $"{source}-b{i}").ToArray();

        var fork = await pool.ForkAsync(source, branches, Prompts[4], Timeout);

        Assert.Equal(fixture.Model.Tokenize(Prompts[4]).Length, fork.CopiedTokens);
        Assert.Equal(0, fork.PrefillTokens);
        Assert.Equal(fork.CopiedTokens, pool.CachedTokens(source));
        var cold = await pool.GenerateAsync(Greedy(Prompts[4], 10), Timeout);
        var results = await Task.WhenAll(branches.Select(b => pool.GenerateAsync(Greedy(Prompts[4], 10) with { SessionKey = b }, Timeout)));
        Assert.All(results, r => Assert.Equal(cold.Tokens, r.Tokens));
        Assert.All(results, r => Assert.Equal(1, r.PrefillTokens));
    }

    [Fact]
    public async Task Fork_FromAPromptTheSourceNeverSaw_PrefillsItOnceForEveryCopy()
    {
        using var pool = fixture.CreatePool();
        var source = $"source-{Guid.NewGuid():N}";

        var fork = await pool.ForkAsync(source, [$"{source}-a", $"{source}-b"], Prompts[0], Timeout);

        var tokens = fixture.Model.Tokenize(Prompts[0]).Length;
        Assert.Equal(tokens, fork.PrefillTokens);
        Assert.Equal(tokens, fork.CopiedTokens);
        Assert.Equal(tokens, pool.CachedTokens($"{source}-b"));
    }

    [Fact]
    public async Task ScoreAlternatives_MatchScoringEachAlone_AndDecodeTheSharedPromptOnce()
    {
        using var pool = fixture.CreatePool();
        string[] continuations = [" a teapot.", " a spoon.", " an umbrella.", " a vacuum cleaner.", " a book.", " a sock."];

        var together = await pool.ScoreAlternativesAsync(Prompts[2], continuations, cancellationToken: Timeout);

        var alone = new List<ScoreResult>();
        foreach (var continuation in continuations)
        {
            alone.Add(await pool.ScoreAsync(new ScoreRequest { Prompt = Prompts[2], Continuation = continuation }, Timeout));
        }

        Assert.Equal(continuations.Length, together.Count);
        for (var i = 0; i < continuations.Length; i++)
        {
            Assert.Equal(alone[i].ContinuationTokens, together[i].ContinuationTokens);
            Assert.InRange(together[i].LogProbability, alone[i].LogProbability - 1e-3, alone[i].LogProbability + 1e-3);
        }

        // The prompt is decoded once, and each continuation costs its own tokens (plus the prompt's last, for its logits).
        var prompt = fixture.Model.Tokenize(Prompts[2]).Length;
        var decoded = together.Sum(r => r.PrefillTokens);
        Assert.True(decoded <= prompt + together.Sum(r => r.ContinuationTokens.Count + 1), $"decoded {decoded} tokens for a {prompt}-token prompt");
    }

    [Fact]
    public async Task Score_EqualsSumOfStepwiseLogSoftmax()
    {
        using var pool = fixture.CreatePool();
        var prompt = fixture.Model.Tokenize(Prompts[3]);
        var continuation = fixture.Model.Tokenize(" and ordered a pint of ale.", addSpecial: false);

        var scored = await pool.ScoreAsync(new ScoreRequest { PromptTokens = prompt, ContinuationTokens = continuation }, Timeout);

        var expected = StepwiseLogProbabilities(prompt, continuation);
        Assert.Equal(continuation.Length, scored.TokenLogProbabilities.Count);
        for (var i = 0; i < continuation.Length; i++)
        {
            Assert.InRange(scored.TokenLogProbabilities[i], expected[i] - 1e-3, expected[i] + 1e-3);
        }

        Assert.InRange(scored.LogProbability, expected.Sum() - 1e-3, expected.Sum() + 1e-3);
    }

    [Fact]
    public async Task Score_TextOnSession_ReusesTheCachedPrompt()
    {
        using var pool = fixture.CreatePool();
        var session = $"scorer-{Guid.NewGuid():N}";
        var first = await pool.ScoreAsync(new ScoreRequest { SessionKey = session, Prompt = Prompts[2], Continuation = " Yes, it is alive." }, Timeout);
        var second = await pool.ScoreAsync(new ScoreRequest { SessionKey = session, Prompt = Prompts[2], Continuation = " No, it is a rock." }, Timeout);

        Assert.True(second.PrefillTokens < first.PrefillTokens / 2, $"{second.PrefillTokens} vs {first.PrefillTokens}");
        Assert.NotEqual(first.LogProbability, second.LogProbability);
        Assert.All(first.TokenLogProbabilities.Concat(second.TokenLogProbabilities), p => Assert.True(p < 0));
    }

    [Fact]
    public async Task Generate_StopString_EndsBeforeItAndStreamsTheSameText()
    {
        using var pool = fixture.CreatePool();
        var free = await pool.GenerateAsync(Greedy(Prompts[5], 24), Timeout);
        Assert.True(free.Text.Length > 4, $"generated '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var expected = free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)];

        var streamed = new List<string>();
        var generation = pool.Generate(Greedy(Prompts[5], 24) with { StopStrings = [stop] }, Timeout);
        await foreach (var piece in generation.WithCancellation(Timeout))
        {
            streamed.Add(piece);
        }

        var result = await generation.Completion;
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(expected, result.Text);
        Assert.Equal(expected, string.Concat(streamed));
    }

    [Fact]
    public async Task Generate_ThousandConcurrentRequestsOnSixtyFourSlots_AllCompleteOrFailCleanly()
    {
        using var pool = fixture.CreatePool(sequences: 64, contextLength: 128, batch: 512, o => o.MaxQueuedRequests = 1000);
        var requests = Enumerable.Range(0, 1000).Select(i => pool.GenerateAsync(new GenerationRequest
        {
            SessionKey = i % 3 == 0 ? null : $"s{i % 200}",
            Prompt = Prompts[i % Prompts.Length] + $" {i}",
            MaxTokens = 4,
            Sampling = new SamplingOptions { Seed = (uint)i },
        }, Timeout)).ToArray();

        var all = Task.WhenAll(requests);
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromMinutes(3), Timeout));

        Assert.All(requests, r => Assert.True(r.IsCompleted, "a request hung"));
        Assert.All(requests, r => Assert.True(r.IsCompletedSuccessfully || r.Exception!.InnerException is InferencePoolBusyException, r.Exception?.ToString()));
        Assert.True(requests.Count(r => r.IsCompletedSuccessfully) == 1000);
        Assert.Equal(0, pool.Statistics.InFlight);
        Assert.Equal(0, pool.Statistics.Running);
    }

    [Fact]
    public async Task Generate_QueueFull_FailsWithBusyAndPoolKeepsServing()
    {
        using var pool = fixture.CreatePool(sequences: 2, configure: o =>
        {
            o.MaxQueuedRequests = 3;
            o.WaitWhenBusy = false;
        });
        var requests = Enumerable.Range(0, 8).Select(i => pool.GenerateAsync(Greedy(Prompts[i % Prompts.Length], 32), Timeout)).ToArray();

        await Task.WhenAll(requests.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));

        Assert.Equal(3, requests.Count(r => r.IsCompletedSuccessfully));
        var busy = requests.Where(r => r.IsFaulted).Select(r => r.Exception!.InnerException).ToList();
        Assert.Equal(5, busy.Count);
        Assert.All(busy, e => Assert.IsType<InferencePoolBusyException>(e));
        Assert.Contains("MaxQueuedRequests", busy[0]!.Message, StringComparison.Ordinal);
        Assert.Equal(4, (await pool.GenerateAsync(Greedy(Prompts[0], 4), Timeout)).Tokens.Count);
    }

    [Fact]
    public async Task Generate_WaitWhenBusy_QueuesInsteadOfFailing()
    {
        using var pool = fixture.CreatePool(sequences: 2, configure: o => { o.MaxQueuedRequests = 2; o.WaitWhenBusy = true; });

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => pool.GenerateAsync(Greedy(Prompts[i], 8), Timeout)));

        Assert.All(results, r => Assert.Equal(8, r.Tokens.Count));
    }

    [Fact]
    public async Task Generate_Cancelled_FreesTheSequenceAtOnce()
    {
        using var pool = fixture.CreatePool(sequences: 1, contextLength: 4096, batch: 64);
        using var cancel = new CancellationTokenSource();
        var generation = pool.Generate(new GenerationRequest { Prompt = Prompts[0], MaxTokens = 4000, Sampling = SamplingOptions.Greedy }, cancel.Token);
        var pieces = 0;
        await foreach (var piece in generation.WithCancellation(Timeout))
        {
            if (++pieces == 3)
            {
                await cancel.CancelAsync();
                break;
            }
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generation.Completion);
        var next = await pool.GenerateAsync(Greedy(Prompts[1], 4), Timeout);

        Assert.Equal(4, next.Tokens.Count);
        Assert.Equal(1, pool.Statistics.Cancelled);
        Assert.Equal(0, pool.Statistics.Running);
    }

    [Fact]
    public async Task Generate_PromptLongerThanSequence_FailsNamingTheLimit_AndPoolLivesOn()
    {
        using var pool = fixture.CreatePool(contextLength: 64);
        var longPrompt = string.Join(' ', Enumerable.Repeat("the tavern was loud", 40));

        var error = await Assert.ThrowsAsync<PromptTooLongException>(() => pool.GenerateAsync(Greedy(longPrompt, 4), Timeout));

        Assert.Equal(64, error.Limit);
        Assert.Contains("SequenceContextLength", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, (await pool.GenerateAsync(Greedy(Prompts[0], 4), Timeout)).Tokens.Count);
    }

    [Fact]
    public async Task Generate_GreedyWithPresencePenalty_RepeatsFewerTokensThanPlainGreedy()
    {
        using var pool = fixture.CreatePool();
        var plain = await pool.GenerateAsync(Greedy(Prompts[3], 48), Timeout);

        var penalised = await pool.GenerateAsync(Greedy(Prompts[3], 48) with { Sampling = SamplingOptions.Greedy with { PresencePenalty = 2, RepetitionLastN = 48 } }, Timeout);

        static int Repeats(IReadOnlyList<int> tokens) => tokens.Count - tokens.Distinct().Count();
        Assert.True(Repeats(penalised.Tokens) < Repeats(plain.Tokens), $"repeats: {Repeats(penalised.Tokens)} penalised vs {Repeats(plain.Tokens)} plain");
    }

    [Theory]
    [InlineData("Temperature", -1f)]
    [InlineData("TopP", 0f)]
    [InlineData("MinP", 2f)]
    [InlineData("RepetitionPenalty", float.NaN)]
    [InlineData("FrequencyPenalty", 2.5f)]
    [InlineData("PresencePenalty", float.PositiveInfinity)]
    public void Generate_InvalidSamplingValue_ThrowsNamingIt(string name, float value)
    {
        using var pool = fixture.CreatePool();
        var sampling = name switch
        {
            "Temperature" => new SamplingOptions { Temperature = value },
            "TopP" => new SamplingOptions { TopP = value },
            "MinP" => new SamplingOptions { MinP = value },
            "FrequencyPenalty" => new SamplingOptions { FrequencyPenalty = value },
            "PresencePenalty" => new SamplingOptions { PresencePenalty = value },
            _ => new SamplingOptions { RepetitionPenalty = value },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Generate(new GenerationRequest { Prompt = "x", Sampling = sampling }, TestContext.Current.CancellationToken));

        Assert.Equal($"Sampling.{name}", error.ParamName);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.CurrentCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_TokenOutsideVocabulary_ThrowsNamingTheToken()
    {
        using var pool = fixture.CreatePool();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Generate(new GenerationRequest { PromptTokens = [1, 5, 999_999] }, TestContext.Current.CancellationToken));

        Assert.Contains("999999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingNonGgufAndTruncatedFiles_GiveTypedErrorsNamingTheFile()
    {
        var missing = Path.Combine(fixture.Directory, "missing.gguf");
        var text = Path.Combine(fixture.Directory, "notes.gguf");
        var truncated = Path.Combine(fixture.Directory, "truncated.gguf");
        File.WriteAllText(text, "not a model");
        var bytes = File.ReadAllBytes(fixture.ModelPath);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var notFound = Assert.Throws<ModelFileException>(() => LlamaModel.Load(missing));
        var notGguf = Assert.Throws<ModelFileException>(() => LlamaModel.Load(text));
        var cut = Assert.Throws<ModelFileException>(() => LlamaModel.Load(truncated));

        Assert.Equal((ModelFileProblem.NotFound, ModelFileProblem.NotGguf, ModelFileProblem.Truncated), (notFound.Kind, notGguf.Kind, cut.Kind));
        Assert.StartsWith(missing + ": ", notFound.Message, StringComparison.Ordinal);
        Assert.StartsWith(text + ": ", notGguf.Message, StringComparison.Ordinal);
        Assert.StartsWith(truncated + ": truncated", cut.Message, StringComparison.Ordinal);
    }

    private static GenerationRequest Greedy(string prompt, int maxTokens) => new()
    {
        Prompt = prompt,
        MaxTokens = maxTokens,
        Sampling = SamplingOptions.Greedy,
    };

    /// <summary>Log-probabilities by feeding one token per llama_decode on a context of its own.</summary>
    private double[] StepwiseLogProbabilities(int[] prompt, int[] continuation)
    {
        // Same attention kernel as the pool (its default for this backend), one token per decode.
        var flashAttention = new InferencePoolOptions().FlashAttentionFor(LlamaLibrary.Info?.Backend ?? LlamaBackendKind.Cpu);
        using var context = new LlamaContext(fixture.Model, new LlamaContextSettings(512, 1, 8, 8, 1, UnifiedKv: false, flashAttention));
        using var batch = new NativeBatch(8);
        int[] all = [.. prompt, .. continuation];
        var result = new double[continuation.Length];
        for (var i = 0; i < all.Length - 1; i++)
        {
            batch.Clear();
            batch.Add(all[i], i, 0, wantLogits: true);
            Assert.Equal(0, context.Decode(batch));
            if (i >= prompt.Length - 1)
            {
                var logits = context.Logits(0);
                var max = double.NegativeInfinity;
                foreach (var l in logits)
                {
                    max = Math.Max(max, l);
                }

                var sum = 0.0;
                foreach (var l in logits)
                {
                    sum += Math.Exp(l - max);
                }

                result[i - prompt.Length + 1] = logits[all[i + 1]] - max - Math.Log(sum);
            }
        }

        return result;
    }
}
