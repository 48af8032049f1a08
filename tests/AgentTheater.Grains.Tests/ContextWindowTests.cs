using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Tests;

/// <summary>The chunked cut that keeps a prompt's newest lines within its room.</summary>
public sealed class ContextWindowTests
{
    [Fact]
    public void FirstKept_EverythingFits_KeepsEveryLine() =>
        Assert.Equal(0, ContextWindow.FirstKept([10, 20, 30], room: 60));

    [Fact]
    public void FirstKept_NothingFits_KeepsNoLine() =>
        Assert.Equal(1, ContextWindow.FirstKept([10], room: 0));

    [Theory]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(37)]
    public void FirstKept_AsLinesArrive_KeptLinesStayWithinTheRoom_AndTheCutMovesInChunks(int room)
    {
        var lines = new List<int>();
        var cuts = new List<int>();
        var random = new Random(3);
        for (var i = 0; i < 400; i++)
        {
            lines.Add(random.Next(3, 18));
            var first = ContextWindow.FirstKept(lines, room);
            Assert.True(lines.Skip(first).Sum() <= room, $"line {i}: kept {lines.Skip(first).Sum()} tokens in a room of {room}");
            if (cuts.Count > 0)
            {
                Assert.True(first >= cuts[^1], $"line {i}: the cut moved back from {cuts[^1]} to {first}");
            }

            cuts.Add(first);
        }

        // About half the room goes at once: the cut moves once per half-room of new lines (10.5 tokens a line on average),
        // where a cut that dropped one line at a time would move at nearly every line.
        var moves = cuts.Zip(cuts.Skip(1)).Count(p => p.Second != p.First);
        var expected = lines.Sum() / (room / 2.0);
        Assert.InRange(moves, expected * 0.8, expected * 1.2);
    }

    [Fact]
    public void FirstKept_OnlyDependsOnTheLines_SoEveryCallerCutsAtTheSameLine()
    {
        int[] lines = [12, 9, 15, 7, 11, 13, 8, 10, 14, 6, 9, 12];

        Assert.Equal(ContextWindow.FirstKept(lines, 50), ContextWindow.FirstKept([.. lines], 50));

        // 127 tokens in a room of 50: cuts fall at multiples of 25 tokens from the first line; the smallest that leaves
        // at most 50 is 100, and the first line starting at or after it is the one at 105.
        Assert.Equal(10, ContextWindow.FirstKept(lines, 50));
    }
}
