using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// Sessions whose sequence goes to another session keep their KV state in host memory and get it back when they
/// return: they go on exactly as a session that never lost its sequence.
/// </summary>
public sealed class HostKvTierTests(TinyModelFixture fixture)
{
    private const string Prompt = "[Scene] the common room of an inn on a stormy night\n\nMarta: the kettle is on and the fire is warm\nWren: the tide waits for nobody\nPike:";

    /// <summary>What the sessions that crowd the pool say: nothing in common with <see cref="Prompt"/>, so only a restore serves its return.</summary>
    private const string Other = "The ledger of the customs house lists forty casks, six missing, and a boat seen off the cove at midnight.";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_EvictedAndRestored_GoesOnExactlyAsOneNeverEvicted()
    {
        using var crowded = fixture.CreatePool(sequences: 2, configure: o => o.HostKvMegabytes = 64);
        using var roomy = fixture.CreatePool(sequences: 8, configure: o => o.HostKvMegabytes = 0);

        var evicted = await PlayAsync(crowded, crowd: true);
        var resident = await PlayAsync(roomy, crowd: false);

        Assert.Equal(resident.Second.Tokens, evicted.Second.Tokens);
        Assert.Equal(resident.Second.PrefillTokens, evicted.Second.PrefillTokens);
        Assert.Equal(resident.Score.TokenLogProbabilities.Count, evicted.Score.TokenLogProbabilities.Count);
        Assert.All(resident.Score.TokenLogProbabilities.Zip(evicted.Score.TokenLogProbabilities), p => Assert.Equal(p.First, p.Second, 1e-4));
        Assert.True(crowded.Statistics.Saves >= 1, $"saves {crowded.Statistics.Saves}");
        Assert.True(crowded.Statistics.Restores >= 1, $"restores {crowded.Statistics.Restores}");
        Assert.Equal(0, crowded.Statistics.ReprefillTokens);
        Assert.True(crowded.Statistics.HostKvBytes <= 64L << 20);
    }

    [Fact]
    public async Task ForkedBranch_EvictedAndRestored_GoesOnExactlyAsOneNeverEvicted()
    {
        using var crowded = fixture.CreatePool(sequences: 3, configure: o => o.HostKvMegabytes = 64);
        using var roomy = fixture.CreatePool(sequences: 8, configure: o => o.HostKvMegabytes = 0);

        var evicted = await ForkAndPlayAsync(crowded, crowd: true);
        var resident = await ForkAndPlayAsync(roomy, crowd: false);

        Assert.Equal(resident.Tokens, evicted.Tokens);
        Assert.Equal(resident.PrefillTokens, evicted.PrefillTokens);
        Assert.True(crowded.Statistics.Restores >= 1, $"restores {crowded.Statistics.Restores}");
    }

    [Fact]
    public async Task TierOff_EvictedSessionPrefillsAgain_AndTheWasteIsCounted()
    {
        using var pool = fixture.CreatePool(sequences: 2, configure: o => o.HostKvMegabytes = 0);

        var (second, _) = await PlayAsync(pool, crowd: true);

        Assert.Equal(0, pool.Statistics.Saves);
        Assert.Equal(0, pool.Statistics.Restores);
        Assert.True(pool.Statistics.ReprefillTokens > 0, "nothing counted as prefilled again");
        Assert.True(second.PrefillTokens >= pool.Statistics.ReprefillTokens, $"prefilled {second.PrefillTokens}, again {pool.Statistics.ReprefillTokens}");
    }

    [Fact]
    public async Task DiskTier_EvictedSessionSpilledAndReadBack_GoesOnExactlyAsOneNeverEvicted()
    {
        using var spill = new SpillFolder();
        using var crowded = fixture.CreatePool(sequences: 2, configure: o => (o.HostKvMegabytes, o.DiskKvDirectory) = (0, spill.Path));
        using var roomy = fixture.CreatePool(sequences: 8, configure: o => o.HostKvMegabytes = 0);

        var evicted = await PlayAsync(crowded, crowd: true);
        var resident = await PlayAsync(roomy, crowd: false);

        Assert.Equal(resident.Second.Tokens, evicted.Second.Tokens);
        Assert.Equal(resident.Second.PrefillTokens, evicted.Second.PrefillTokens);
        Assert.All(resident.Score.TokenLogProbabilities.Zip(evicted.Score.TokenLogProbabilities), p => Assert.Equal(p.First, p.Second, 1e-4));
        Assert.True(crowded.Statistics.Restores >= 1, $"restores {crowded.Statistics.Restores}");
    }

    [Fact]
    public async Task DiskTier_CorruptedSpillFile_IsDeletedAndTheSessionPrefilledAgain_NeverTrusted()
    {
        using var spill = new SpillFolder();
        using var pool = fixture.CreatePool(sequences: 2, configure: o => (o.HostKvMegabytes, o.DiskKvDirectory) = (0, spill.Path));
        var session = $"marta-{Guid.NewGuid():N}";
        var first = await pool.GenerateAsync(Greedy(Prompt, session), Timeout);
        await Task.WhenAll(pool.GenerateAsync(Greedy(Other, "wren"), Timeout), pool.GenerateAsync(Greedy(Other + " sir", "pike"), Timeout));
        var files = Directory.GetFiles(spill.Path, "*.kv");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, Timeout);
            bytes[bytes.Length / 2] ^= 0xFF;
            await File.WriteAllBytesAsync(file, bytes, Timeout);
        }

        var restoresBefore = pool.Statistics.Restores;
        var next = Prompt + first.Text + "\nWren: and who are you?\nPike:";
        var second = await pool.GenerateAsync(Greedy(next, session), Timeout);
        using var roomy = fixture.CreatePool(sequences: 8, configure: o => o.HostKvMegabytes = 0);
        var cold = await roomy.GenerateAsync(Greedy(next, "cold"), Timeout);

        Assert.Equal(restoresBefore, pool.Statistics.Restores);
        Assert.Equal(cold.Tokens, second.Tokens);
        // Prefilled as a cold session (the sequence it got may still hold the BOS its previous session began with).
        Assert.InRange(second.PrefillTokens, cold.PrefillTokens - 1, cold.PrefillTokens);
        Assert.DoesNotContain(files, File.Exists);
    }

    [Fact]
    public void DiskTier_FolderThatCannotBeWritten_RefusesToStart_NamingTheSetting()
    {
        using var spill = new SpillFolder();
        var file = Path.Combine(spill.Path, "a-file");
        File.WriteAllText(file, "not a folder");

        var error = Assert.Throws<InvalidOperationException>(() => fixture.CreatePool(configure: o => o.DiskKvDirectory = Path.Combine(file, "spill")));

        Assert.Contains("Inference:DiskKvDirectory", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A session speaks, (with <paramref name="crowd"/>) two others take both sequences, and it speaks again and is
    /// scored: on a two-sequence pool it lost its sequence in between.
    /// </summary>
    private static async Task<(GenerationResult Second, ScoreResult Score)> PlayAsync(InferencePool pool, bool crowd)
    {
        var session = $"marta-{Guid.NewGuid():N}";
        var first = await pool.GenerateAsync(Greedy(Prompt, session), Timeout);
        if (crowd)
        {
            await Task.WhenAll(pool.GenerateAsync(Greedy(Other, "wren"), Timeout), pool.GenerateAsync(Greedy(Other + " sir", "pike"), Timeout));
        }

        var next = Prompt + first.Text + "\nWren: and who are you?\nPike:";
        var second = await pool.GenerateAsync(Greedy(next, session), Timeout);
        var score = await pool.ScoreAsync(new ScoreRequest { SessionKey = session, Prompt = next, Continuation = " the Crown's man" }, Timeout);
        return (second, score);
    }

    private static async Task<GenerationResult> ForkAndPlayAsync(InferencePool pool, bool crowd)
    {
        var source = $"source-{Guid.NewGuid():N}";
        var branch = $"{source}~0.0";
        await pool.ForkAsync(source, [branch], Prompt, Timeout);
        var first = await pool.GenerateAsync(Greedy(Prompt, branch), Timeout);
        if (crowd)
        {
            await Task.WhenAll(
                pool.GenerateAsync(Greedy(Other + " aye", "a"), Timeout),
                pool.GenerateAsync(Greedy(Other + " sir", "b"), Timeout),
                pool.GenerateAsync(Greedy(Other + " no", "c"), Timeout));
        }

        return await pool.GenerateAsync(Greedy(Prompt + first.Text + "\nMarta: more ale?\nPike:", branch), Timeout);
    }

    private static GenerationRequest Greedy(string prompt, string session) => new()
    {
        SessionKey = session,
        Prompt = prompt,
        MaxTokens = 12,
        Sampling = SamplingOptions.Greedy,
    };

    /// <summary>A temporary spill folder, deleted afterwards.</summary>
    private sealed class SpillFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"agent-theater-spill-{Guid.NewGuid():N}")).FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
