using System.Text.Json;
using static AgentTheater.Integration.Tests.RunCommandTests;

namespace AgentTheater.Integration.Tests;

/// <summary><c>agent-theater bench theater</c> end to end: the host KV tier against none and against a resident pool.</summary>
public sealed class BenchTheaterCommandTests(TheaterClusterFixture fixture)
{
    [Fact]
    public async Task BenchTheater_CompareTiers_EightCharactersOnFourSequences_TheTierRestoresWhatTierOffPrefillsAgain()
    {
        var json = Path.Combine(fixture.Directory, $"theater-{Guid.NewGuid():N}.json");

        var (code, stdout, stderr) = await AgentTheaterAsync(
            "bench", "theater", "--scenario", "scenarios/tavern.yaml", "--replicas", "2", "--sequences", "4", "--no-attribution",
            "--model", fixture.ModelPath, "--compare-tiers", "--json", json);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var plays = report.RootElement;
        Assert.Equal(["tierOff", "tierOn", "resident"], plays.EnumerateObject().Select(p => p.Name));
        foreach (var play in plays.EnumerateObject().Select(p => p.Value))
        {
            Assert.Equal(8, play.GetProperty("characters").GetInt32());
            Assert.Equal(24, play.GetProperty("lines").GetInt32());
            Assert.True(play.GetProperty("generatedTokens").GetInt64() > 0);
            Assert.True(play.GetProperty("prefillTokens").GetInt64() > 0);
            Assert.Equal(JsonValueKind.Null, play.GetProperty("attributionTimeOverhead").ValueKind);
        }

        var (off, on, resident) = (plays.GetProperty("tierOff"), plays.GetProperty("tierOn"), plays.GetProperty("resident"));
        Assert.True(off.GetProperty("reprefillTokens").GetInt64() > 0, "tier off prefilled nothing again");
        Assert.Equal(0, off.GetProperty("restores").GetInt64());
        Assert.True(on.GetProperty("restores").GetInt64() > 0, "tier on restored nothing");
        Assert.True(on.GetProperty("prefillTokens").GetInt64() < off.GetProperty("prefillTokens").GetInt64());
        Assert.Equal(0, resident.GetProperty("saves").GetInt64());
        Assert.Equal(0, resident.GetProperty("reprefillTokens").GetInt64());
        Assert.Contains("| tierOn | 8 | 4 |", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchTheater_JsonIntoAMissingFolder_NamesTheOption_BeforePlaying()
    {
        var (code, stdout, stderr) = await AgentTheaterAsync(
            "bench", "theater", "--scenario", "scenarios/tavern.yaml", "--json", Path.Combine(fixture.Directory, "no-such-folder", "x.json"));

        Assert.Equal(2, code);
        Assert.Contains("--json", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("sequences", stdout, StringComparison.Ordinal);
    }
}
