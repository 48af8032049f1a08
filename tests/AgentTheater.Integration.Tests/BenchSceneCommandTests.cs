using System.Text.Json;
using static AgentTheater.Integration.Tests.RunCommandTests;

namespace AgentTheater.Integration.Tests;

/// <summary><c>agent-theater bench scene</c> end to end, as a separate process on the project's own model.</summary>
public sealed class BenchSceneCommandTests(TheaterClusterFixture fixture)
{
    [Fact]
    public async Task BenchScene_ShortScene_CompletesAndWritesEveryWindow()
    {
        var json = Path.Combine(fixture.Directory, $"bench-{Guid.NewGuid():N}.json");

        var (code, stdout, stderr) = await AgentTheaterAsync("bench", "scene", "--characters", "3", "--turns", "12", "--window", "5", "--json", json, "--sequences", "8", "--context", "2048");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var root = report.RootElement;
        Assert.True(root.GetProperty("completed").GetBoolean());
        Assert.Equal(12, root.GetProperty("turns").GetInt32());
        var windows = root.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal([(1, 5), (6, 10), (11, 12)], windows.Select(w => (w.GetProperty("fromTurn").GetInt32(), w.GetProperty("toTurn").GetInt32())));
        foreach (var window in windows)
        {
            var bySpeaker = window.GetProperty("linesBySpeaker").EnumerateObject().ToList();
            Assert.Equal(3, bySpeaker.Count);
            Assert.Equal(window.GetProperty("characterLines").GetInt32(), bySpeaker.Sum(s => s.Value.GetInt32()));
            Assert.True(window.GetProperty("prefillPerLine").GetDouble() > 0);
            Assert.True(window.GetProperty("msPerLine").GetDouble() > 0);
        }

        Assert.Contains("| 11-12 | 2 |", stdout, StringComparison.Ordinal);
        Assert.Contains("completed: 12 of 12 turns", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', stderr);
        Assert.Empty(Directory.GetFiles(fixture.Directory, "bench-*.tmp"));
    }

    [Theory]
    [InlineData("--characters", "1")]
    [InlineData("--policy", "loudest")]
    [InlineData("--window", "0")]
    public async Task BenchScene_BadOption_NamesIt_AndExitsNonZeroWithoutPlaying(string option, string value)
    {
        var (code, stdout, stderr) = await AgentTheaterAsync("bench", "scene", option, value);

        Assert.Equal(2, code);
        Assert.Contains($"agent-theater: error: {option}: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("bench scene: model", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchScene_CharactersWithScenario_NamesTheConflict()
    {
        var (code, _, stderr) = await AgentTheaterAsync("bench", "scene", "--scenario", "scenarios/tavern.yaml", "--characters", "4");

        Assert.Equal(2, code);
        Assert.Contains("--characters: the cast comes from --scenario", stderr, StringComparison.Ordinal);
    }
}
