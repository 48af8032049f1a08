namespace AgentTheater.Inference.Tests;

public sealed class SeedMixerTests
{
    public static TheoryData<ulong> Words => [0UL, 1UL, 7UL, 0x5DEECE66DUL, 0x0000_0007_0000_0003UL, ulong.MaxValue, 0x8000_0000_0000_0000UL];

    [Fact]
    public void SplitMix64_FromStateZero_IsTheReferenceFirstOutput() =>
        Assert.Equal(0xE220A8397B1DCDAFUL, SeedMixer.SplitMix64(0));

    [Theory]
    [MemberData(nameof(Words))]
    public void SplitMix64_AnyState_EqualsTheFormulaTheSyntheticModelUsedBefore(ulong state) =>
        Assert.Equal(FormerSplitMix64(state), SeedMixer.SplitMix64(state));

    [Theory]
    [MemberData(nameof(Words))]
    public void Mix_AnyWord_IsSplitMix64WithoutTheIncrement(ulong word) =>
        Assert.Equal(FormerSplitMix64(unchecked(word - SeedMixer.GoldenGamma)), SeedMixer.Mix(word));

    /// <summary>SyntheticModel's own copy before the mixer was shared: the weights of every synthetic model depend on it.</summary>
    private static ulong FormerSplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
