using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// A session whose next prompt drops a chunk of its oldest lines keeps the rest of its cache: the dropped cells are
/// removed and the kept ones moved back, so only the new tokens are prefilled.
/// </summary>
public sealed class ContextShiftTests(TinyModelFixture fixture)
{
    private static readonly string[] Lines =
    [
        "Marta: the kettle is on and the fire is warm\n",
        "Wren: the tide waits for nobody, love\n",
        "Pike: rain and wind from the south, madam\n",
        "Marta: sit down and have some bread\n",
        "Wren: wool and cider, nothing more\n",
        "Pike: the Crown will search the cellar\n",
        "Marta: nobody goes down there tonight\n",
        "Wren: what did the traveller see\n",
        "Pike: I write it all in my notebook\n",
        "Marta: more ale for the sergeant\n",
    ];

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Generate_PromptDroppedItsOldestLines_ShiftsTheCacheAndPrefillsOnlyTheNewLine()
    {
        using var pool = fixture.CreatePool();
        var (dropped, kept, second) = await PlayDroppingFourLinesAsync(pool);

        Assert.True(pool.ShiftsContext);
        Assert.Equal(Tokens("Pike: and who are you, sir\n").Length, second.PrefillTokens);
        Assert.Equal(1, pool.Statistics.ContextShifts);
        Assert.Equal(dropped, pool.Statistics.ContextDroppedTokens);
        Assert.Equal(kept, pool.Statistics.ShiftedTokens);
        Assert.Equal(0, pool.Statistics.TrimReprefillTokens);
    }

    [Fact]
    public async Task Generate_ContextShiftOff_PrefillsTheKeptLinesAgainAndCountsThem()
    {
        using var pool = fixture.CreatePool(configure: o => o.ContextShift = false);
        var (_, kept, second) = await PlayDroppingFourLinesAsync(pool);

        Assert.False(pool.ShiftsContext);
        Assert.Equal(kept + Tokens("Pike: and who are you, sir\n").Length, second.PrefillTokens);
        Assert.Equal(0, pool.Statistics.ContextShifts);
        Assert.Equal(kept, pool.Statistics.TrimReprefillTokens);
    }

    [Fact]
    public async Task Generate_AfterAShift_GoesOnLikeAFreshPrefillOfTheSamePrompt()
    {
        using var pool = fixture.CreatePool();
        var session = $"shifted-{Guid.NewGuid():N}";
        await pool.GenerateAsync(Greedy(Prompt(Lines), session), Timeout);
        var trimmed = Prompt(Lines[4..]);

        var shifted = await pool.GenerateAsync(Greedy(trimmed, session) with { MaxTokens = 8 }, Timeout);
        var fresh = await pool.GenerateAsync(Greedy(trimmed, $"fresh-{Guid.NewGuid():N}") with { MaxTokens = 8 }, Timeout);

        // The moved cells still carry what they attended to, so the logits are close, not equal; the positions must be
        // right, or llama_decode refuses the batch. Both decode 8 tokens from the same trimmed prompt.
        Assert.Equal(1, pool.Statistics.ContextShifts);
        Assert.Equal(8, shifted.Tokens.Count);
        Assert.Equal(8, fresh.Tokens.Count);
        Assert.True(shifted.PrefillTokens < fresh.PrefillTokens / 2, $"shifted prefilled {shifted.PrefillTokens}, fresh {fresh.PrefillTokens}");
    }

    private async Task<(int Dropped, int Kept, GenerationResult Second)> PlayDroppingFourLinesAsync(InferencePool pool)
    {
        var session = $"character-{Guid.NewGuid():N}";
        await pool.GenerateAsync(Greedy(Prompt(Lines), session), Timeout);
        var second = await pool.GenerateAsync(Greedy(Prompt([.. Lines[4..], "Pike: and who are you, sir\n"]), session), Timeout);
        var dropped = Lines[..4].Sum(l => Tokens(l).Length);
        var kept = Lines[4..].Sum(l => Tokens(l).Length);
        return (dropped, kept, second);
    }

    /// <summary>The prompt as tokens: BOS and a pinned header, then each line tokenized on its own, so the counts are exact.</summary>
    private int[] Prompt(IEnumerable<string> lines) =>
        [.. fixture.Model.Tokenize("[Scene] the common room of an inn\n\n", addSpecial: true, parseSpecial: false), .. lines.SelectMany(Tokens)];

    private int[] Tokens(string text) => fixture.Model.Tokenize(text, addSpecial: false, parseSpecial: false);

    private static GenerationRequest Greedy(int[] prompt, string session) => new()
    {
        SessionKey = session,
        PromptTokens = prompt,
        MaxTokens = 1,
        Sampling = SamplingOptions.Greedy,
    };
}
