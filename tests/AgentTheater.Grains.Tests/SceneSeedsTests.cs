using AgentTheater.Grains.Scenes;

namespace AgentTheater.Grains.Tests;

/// <summary>Scene seeds stay the numbers they were before the mixer was shared: transcripts of a seed must not change.</summary>
public sealed class SceneSeedsTests
{
    [Theory]
    [InlineData(0L, 0, 0)]
    [InlineData(7L, 0, 3)]
    [InlineData(7L, 2, 39)]
    [InlineData(-1L, 5, 1)]
    [InlineData(long.MaxValue, 1023, 4095)]
    public void Line_AnySeedReplicaAndTurn_EqualsTheFormerFormula(long seed, int replica, int turn) =>
        Assert.Equal(FormerLineSeed(seed, replica, turn), SceneSeeds.Line(seed, replica, turn));

    [Theory]
    [InlineData(0L, 0, 0)]
    [InlineData(7L, 0, 3)]
    [InlineData(7L, 2, 63)]
    [InlineData(-1L, 5, 1)]
    [InlineData(long.MinValue, 1, 0)]
    public void Branch_AnySeedForkAndBranch_EqualsTheFormerFormulaAndIsNotNegative(long seed, int fork, int branch)
    {
        var mixed = SceneSeeds.Branch(seed, fork, branch);

        Assert.Equal(FormerBranchSeed(seed, fork, branch), mixed);
        Assert.True(mixed >= 0);
    }

    private static uint FormerLineSeed(long seed, int replica, int turn)
    {
        var x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + ((ulong)replica << 20) + (ulong)turn);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (uint)(x ^ (x >> 31));
    }

    private static long FormerBranchSeed(long seed, int fork, int branch)
    {
        var x = unchecked((ulong)seed * 0xD1B54A32D192ED03UL + ((ulong)fork << 32) + (ulong)branch + 1);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (long)((x ^ (x >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL);
    }
}
