using System.Text.Json;
using AgentTheater.Client.Benchmarks;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Tests;

/// <summary><c>bench scene</c>'s arithmetic: a scene's lines grouped into windows of turns, and each window's figures.</summary>
public sealed class BenchSceneTests
{
    private static readonly string[] Cast = ["marta", "bram", "ines"];

    [Fact]
    public void Compute_TurnsInWindows_GroupsByTurnWithAShortLastWindow()
    {
        var lines = Scene(7, turn => Cast[turn % 2]);

        var windows = SceneWindows.Compute(lines, Cast, size: 3);

        Assert.Equal([(1, 3, 3), (4, 6, 3), (7, 7, 1)], windows.Select(w => (w.FromTurn, w.ToTurn, w.CharacterLines)));
        Assert.All(windows, w => Assert.Equal(w.CharacterLines, w.LinesBySpeaker.Values.Sum()));
    }

    [Fact]
    public void Compute_NarrationAndInterventions_AreNotLines()
    {
        SceneLine[] lines =
        [
            new(0, 0, LineKind.Narrator, null, "Narrator", "Snow."),
            new(1, 0, LineKind.Intervention, null, "User", "Hello?"),
            Line(2, 0, "marta", prefill: 100),
            new(3, 1, LineKind.Intervention, null, "User", "Anyone?"),
            Line(4, 1, "bram", prefill: 50),
        ];

        var window = Assert.Single(SceneWindows.Compute(lines, Cast, size: 10));

        Assert.Equal(2, window.CharacterLines);
        Assert.Equal(150, window.PrefillTokens);
        Assert.Equal(75, window.PrefillPerLine);
    }

    [Fact]
    public void Compute_Figures_ArePerLineAndCountEveryCharacter()
    {
        SceneLine[] lines =
        [
            Line(0, 0, "marta", prefill: 100, queue: 10, generate: 90),
            Line(1, 1, "bram", prefill: 20, queue: 0, generate: 50),
            Line(2, 2, "marta", prefill: 30, queue: 5, generate: 45),
        ];

        var window = Assert.Single(SceneWindows.Compute(lines, Cast, size: 100));

        Assert.Equal(50, window.PrefillPerLine);
        Assert.Equal(200, window.Milliseconds);
        Assert.Equal(200.0 / 3, window.MsPerLine, 9);
        Assert.Equal(new Dictionary<string, int> { ["marta"] = 2, ["bram"] = 1, ["ines"] = 0 }, window.LinesBySpeaker);
        Assert.Null(window.WallMsPerTurn);
    }

    [Fact]
    public void Compute_OmittedLines_CountsWhatEachSpeakerNewlyDroppedAndTheMost()
    {
        // Marta leaves out 0, then 4, then 6 lines; Bram 3, then 2 (a context that grew back drops nothing).
        SceneLine[] lines =
        [
            Line(0, 0, "marta", omitted: 0),
            Line(1, 1, "bram", omitted: 3),
            Line(2, 2, "marta", omitted: 4),
            Line(3, 3, "bram", omitted: 2),
            Line(4, 4, "marta", omitted: 6),
        ];

        var windows = SceneWindows.Compute(lines, Cast, size: 3);

        Assert.Equal([(7, 4), (2, 6)], windows.Select(w => (w.DroppedLines, w.MaxOmittedLines)));
    }

    [Fact]
    public void Compute_TurnEndTimes_GiveWallTimePerTurnOfEachWindow()
    {
        var lines = Scene(5, _ => "marta");
        double[] ends = [1.0, 2.0, 4.0, 5.0, 5.5];

        var windows = SceneWindows.Compute(lines, Cast, size: 2, ends);

        Assert.Equal([1000.0, 1500.0, 500.0], windows.Select(w => w.WallMsPerTurn!.Value));
        Assert.Equal(1100.0, SceneWindows.Total(windows)!.WallMsPerTurn!.Value, 9);
    }

    [Fact]
    public void Compute_NoCharacterLines_NoWindows()
    {
        var windows = SceneWindows.Compute([new SceneLine(0, 0, LineKind.Narrator, null, "Narrator", "Snow.")], Cast, size: 100);

        Assert.Empty(windows);
        Assert.Null(SceneWindows.Total(windows));
    }

    [Fact]
    public void Total_Windows_SumsLinesAndSpeakers()
    {
        var windows = SceneWindows.Compute(Scene(10, turn => Cast[turn % 3], prefill: 40), Cast, size: 4);

        var total = SceneWindows.Total(windows)!;

        Assert.Equal((1, 10, 10, 40.0), (total.FromTurn, total.ToTurn, total.CharacterLines, total.PrefillPerLine));
        Assert.Equal(new Dictionary<string, int> { ["marta"] = 4, ["bram"] = 3, ["ines"] = 3 }, total.LinesBySpeaker);
    }

    [Fact]
    public void Markdown_Windows_OneRowEachAndATotalWithAColumnPerCharacter()
    {
        var windows = SceneWindows.Compute(Scene(4, turn => Cast[turn % 2]), Cast, size: 2);

        var table = SceneWindows.Markdown(windows, [("marta", "Marta"), ("bram", "Bram"), ("ines", "Ines")]).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.EndsWith("| Marta | Bram | Ines |", table[0], StringComparison.Ordinal);
        Assert.Equal(table[0].Count(c => c == '|'), table[1].Count(c => c == '|'));
        Assert.StartsWith("| 1-2 | 2 |", table[2], StringComparison.Ordinal);
        Assert.StartsWith("| 3-4 | 2 |", table[3], StringComparison.Ordinal);
        Assert.StartsWith("| all | 4 |", table[4], StringComparison.Ordinal);
        Assert.EndsWith("| 2 | 2 | 0 |", table[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Report_ToJson_HasTheIssuesShape()
    {
        var windows = SceneWindows.Compute(Scene(3, _ => "marta", prefill: 10), Cast, size: 2);
        var report = new SceneBenchReport(
            false, "The prompt is too long.", "The prompt is too long.", 3, 1000, 2, TurnPolicy.RoundRobin, "m.gguf",
            [new BenchCastMember("marta", "Marta", "the innkeeper")], 1.5, SceneWindows.Total(windows), windows);

        using var json = JsonDocument.Parse(report.ToJson());

        Assert.False(json.RootElement.GetProperty("completed").GetBoolean());
        Assert.Equal("The prompt is too long.", json.RootElement.GetProperty("error").GetString());
        Assert.Equal("round-robin", json.RootElement.GetProperty("policy").GetString());
        var first = json.RootElement.GetProperty("windows")[0];
        Assert.Equal(10, first.GetProperty("prefillPerLine").GetDouble());
        Assert.True(first.TryGetProperty("msPerLine", out _));
        Assert.Equal(2, first.GetProperty("linesBySpeaker").GetProperty("marta").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("windows").GetArrayLength());
    }

    [Fact]
    public void BenchCast_SameCount_SameDistinctCast()
    {
        var six = BenchCast.Scenario(6, 1000, TurnPolicy.Director, seed: 1);

        Assert.Equal(six, BenchCast.Scenario(6, 1000, TurnPolicy.Director, seed: 1), new ScenarioComparer());
        Assert.Equal(6, six.Characters.Select(c => c.Name).Distinct().Count());
        Assert.Equal(6, six.Characters.Select(c => c.Role).Distinct().Count());
        var scene = Assert.Single(six.Scenes);
        Assert.Equal((1000, TurnPolicy.Director), (scene.MaxTurns, scene.Policy));
        Assert.Equal(six.Characters.Select(c => c.Id), scene.Present);
        Assert.Equal(BenchCast.MaxCharacters, BenchCast.Scenario(BenchCast.MaxCharacters, 10, TurnPolicy.RoundRobin, 1).Characters.Select(c => c.Id).Distinct().Count());
    }

    private static SceneLine Line(int index, int turn, string speaker, int prefill = 10, double queue = 0, double generate = 10, int omitted = 0) =>
        new(index, turn, LineKind.Character, speaker, speaker, "...", Tokens: 3, PrefillTokens: prefill, QueueMilliseconds: queue, GenerateMilliseconds: generate, OmittedLines: omitted);

    private static SceneLine[] Scene(int turns, Func<int, string> speaker, int prefill = 10) =>
        [.. Enumerable.Range(0, turns).Select(t => Line(t, t, speaker(t), prefill))];

    /// <summary>Records with lists compare by reference; the cast and scene compare by their contents here.</summary>
    private sealed class ScenarioComparer : IEqualityComparer<ScenarioDefinition>
    {
        public bool Equals(ScenarioDefinition? x, ScenarioDefinition? y) =>
            x is not null && y is not null
            && x.Characters.Select(Card).SequenceEqual(y.Characters.Select(Card))
            && x.Scenes[0].Setting == y.Scenes[0].Setting
            && x.Scenes[0].Present.SequenceEqual(y.Scenes[0].Present)
            && x.Sampling == y.Sampling;

        public int GetHashCode(ScenarioDefinition obj) => obj.Name.GetHashCode(StringComparison.Ordinal);

        private static string Card(PersonaCard c) => $"{c.Id}|{c.Name}|{c.Role}|{string.Join(';', c.Goals)}|{string.Join(';', c.PrivateKnowledge)}|{c.SpeakingStyle}";
    }
}
