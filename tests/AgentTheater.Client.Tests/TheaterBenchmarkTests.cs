using System.Text.Json;
using AgentTheater.Client.Benchmarks;

namespace AgentTheater.Client.Tests;

/// <summary>The table and JSON of <c>bench theater</c>.</summary>
public sealed class TheaterBenchmarkTests
{
    private static readonly TheaterBenchFigures Off = new("tierOff", 32, 8, 0, 96, 1_363, 30_000, 14_000, 0, 0, 0, 55, 1_600, 3_100, null, 25, 256);
    private static readonly TheaterBenchFigures On = Off with { Name = "tierOn", HostKvMegabytes = -1, PrefillTokens = 15_000, ReprefillTokens = 150, Saves = 88, Restores = 60, WallSeconds = 15 };
    private static readonly TheaterBenchFigures Resident = Off with { Name = "resident", Sequences = 41, PrefillTokens = 16_000, ReprefillTokens = 0, WallSeconds = 18 };

    [Fact]
    public void Table_ThreeTiers_RowEachAndTheRatios()
    {
        var table = TheaterBenchmark.Table([Off, On, Resident]);

        Assert.Contains("| tierOff | 32 | 8 | off | 96 | 1,363 | 30,000 | 14,000 | 0 | 0 | 0.00 |", table, StringComparison.Ordinal);
        Assert.Contains("| tierOn | 32 | 8 | default |", table, StringComparison.Ordinal);
        Assert.Contains("tier on against tier off: wall 0.60x, prefill 0.50x; against resident: prefill 0.94x; re-prefilled 0.01x of prefilled", table, StringComparison.Ordinal);
    }

    [Fact]
    public void ToJson_OnePlay_IsItsObject_ThreeAreKeyedByName()
    {
        using var one = JsonDocument.Parse(TheaterBenchmark.ToJson([On]));
        using var three = JsonDocument.Parse(TheaterBenchmark.ToJson([Off, On, Resident]));

        Assert.Equal(60, one.RootElement.GetProperty("restores").GetInt64());
        Assert.Equal(["tierOff", "tierOn", "resident"], three.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, three.RootElement.GetProperty("tierOff").GetProperty("attributionTimeOverhead").ValueKind);
        Assert.Equal(15_000, three.RootElement.GetProperty("tierOn").GetProperty("prefillTokens").GetInt64());
    }
}
