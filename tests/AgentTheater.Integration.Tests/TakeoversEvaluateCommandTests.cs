using System.Text.Json;

namespace AgentTheater.Integration.Tests;

/// <summary><c>agent-theater takeovers evaluate</c> end to end, as a separate process, with the project's own model.</summary>
public sealed class TakeoversEvaluateCommandTests(TheaterClusterFixture fixture)
{
    // The fixture's two pools share this machine's cores with the program's: one llama.cpp thread, as theirs.
    private static readonly Dictionary<string, string> OneThread = new() { ["AGENTTHEATER_Inference__Threads"] = "1" };

    private static string ProjectModel => RepositoryFiles.ProjectModel;

    [Fact]
    public async Task Evaluate_ThreeLabelledScenes_WithTheProjectModel_ScoresEveryLine_AndTheCountsAddUp()
    {
        // One scene of each kind from the shipped set.
        var records = File.ReadAllLines(RepositoryFiles.LabelledTakeovers);
        string[] picked = [records.First(r => r.Contains("\"kind\": \"comply\"", StringComparison.Ordinal)),
            records.First(r => r.Contains("\"kind\": \"resist\"", StringComparison.Ordinal)), records.First(r => r.Contains("\"kind\": \"none\"", StringComparison.Ordinal))];
        var set = Path.Combine(fixture.Directory, $"three-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(set, picked, TestContext.Current.CancellationToken);
        var characterLines = picked.Sum(r => JsonDocument.Parse(r).RootElement.GetProperty("lines").EnumerateArray().Count(l => l.GetProperty("kind").GetString() == "character"));
        var output = Path.Combine(fixture.Directory, $"evaluation-{Guid.NewGuid():N}");

        var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync(OneThread, "takeovers", "evaluate", "--set", set, "--model", ProjectModel, "--out", output, "--sequences", "96");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.True(File.Exists(Path.Combine(output, "evaluation.md")) && File.Exists(Path.Combine(output, "precision-recall.svg")));
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "evaluation.json"), TestContext.Current.CancellationToken));
        var root = result.RootElement;

        // Every character line scored, none failed; the grain's takeovers are what replaying its scores finds.
        Assert.Equal(characterLines, root.GetProperty("lines").GetInt32());
        Assert.Equal(0, root.GetProperty("failedLines").GetInt32());
        Assert.True(root.GetProperty("replayMatches").GetBoolean());
        var attribution = File.ReadAllLines(Path.Combine(output, "attribution.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(characterLines, attribution.Count);
        Assert.All(attribution, a => Assert.Equal(1.0, a.GetProperty("scores").EnumerateArray().Sum(s => s.GetProperty("posterior").GetDouble()), 9));

        // The counts add up: one scene of each kind; detected + missed = comply scenes; detected + false = all takeovers.
        var detection = root.GetProperty("detection");
        var kinds = detection.GetProperty("kinds").EnumerateArray().ToList();
        Assert.Equal(["comply", "resist", "none"], kinds.Select(k => k.GetProperty("kind").GetString()));
        Assert.All(kinds, k => Assert.Equal(1, k.GetProperty("scenes").GetInt32()));
        var takeovers = kinds.Sum(k => k.GetProperty("takeovers").GetInt32());
        Assert.Equal(File.ReadAllLines(Path.Combine(output, "takeovers.jsonl")).Length, takeovers);
        var truePositives = detection.GetProperty("truePositives").GetInt32();
        Assert.Equal(1, truePositives + detection.GetProperty("misses").GetInt32());
        Assert.Equal(takeovers - truePositives, detection.GetProperty("falsePositives").GetInt32() + RepeatsOfTheLabel(root));

        // The sweep holds every grid setting once, the defaults among them, best first.
        var sweep = root.GetProperty("sweep").EnumerateArray().ToList();
        Assert.Equal(7 * 6 * 6 * 3, sweep.Count);
        Assert.Single(sweep, s => s.GetProperty("defaults").GetBoolean());
        Assert.True(sweep.Zip(sweep.Skip(1)).All(p => p.First.GetProperty("f1").GetDouble() >= p.Second.GetProperty("f1").GetDouble()));
        Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(output, "precision-recall.svg"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(output, "scenes"), "*.jsonl").Length);

        // Replayed without the model at the same settings, the recorded scores give the same detection.
        var replayed = Path.Combine(fixture.Directory, $"replay-{Guid.NewGuid():N}");
        (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync("takeovers", "evaluate", "--set", set, "--replay", output, "--out", replayed);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var replay = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(replayed, "evaluation.json"), TestContext.Current.CancellationToken));
        var again = replay.RootElement.GetProperty("detection");
        Assert.Equal(characterLines, replay.RootElement.GetProperty("lines").GetInt32());
        Assert.Equal(
            (truePositives, detection.GetProperty("falsePositives").GetInt32(), detection.GetProperty("misses").GetInt32()),
            (again.GetProperty("truePositives").GetInt32(), again.GetProperty("falsePositives").GetInt32(), again.GetProperty("misses").GetInt32()));

        // A labelled scene the earlier evaluation never scored is named, and nothing is written.
        var unscored = Path.Combine(fixture.Directory, $"replay-{Guid.NewGuid():N}");
        (code, _, stderr) = await RunCommandTests.AgentTheaterAsync("takeovers", "evaluate", "--set", RepositoryFiles.LabelledTakeovers, "--replay", output, "--out", unscored);

        Assert.Equal(3, code);
        var missing = JsonDocument.Parse(records.First(r => !picked.Contains(r))).RootElement.GetProperty("id").GetString()!;
        Assert.Contains(Path.Combine(output, "attribution.jsonl"), stderr, StringComparison.Ordinal);
        Assert.Contains($"'{missing}'", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(unscored));
    }

    [Fact]
    public async Task Evaluate_ReplayOfAFolderWithoutScores_NamesTheFile_ExitsThree_AndWritesNothing()
    {
        var earlier = Directory.CreateDirectory(Path.Combine(fixture.Directory, $"empty-{Guid.NewGuid():N}")).FullName;
        var output = Path.Combine(fixture.Directory, $"evaluation-{Guid.NewGuid():N}");

        var (code, _, stderr) = await RunCommandTests.AgentTheaterAsync("takeovers", "evaluate", "--set", RepositoryFiles.LabelledTakeovers, "--replay", earlier, "--out", output);

        Assert.Equal(3, code);
        Assert.Contains(Path.Combine(earlier, "attribution.jsonl"), stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Evaluate_BadSet_NamesFileLineAndField_ExitsThree_AndWritesNothing()
    {
        var set = Path.Combine(fixture.Directory, $"bad-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(set, """{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A"}], "lines": []}""" + "\n", TestContext.Current.CancellationToken);
        var output = Path.Combine(fixture.Directory, $"evaluation-{Guid.NewGuid():N}");

        var (code, _, stderr) = await RunCommandTests.AgentTheaterAsync("takeovers", "evaluate", "--set", set, "--out", output);

        Assert.Equal(3, code);
        Assert.Contains($"{set}:1: cast[0].role", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Evaluate_MissingForcedScenario_NamesIt_AndWritesNothing()
    {
        var output = Path.Combine(fixture.Directory, $"evaluation-{Guid.NewGuid():N}");

        var (code, _, stderr) = await RunCommandTests.AgentTheaterAsync(
            "takeovers", "evaluate", "--set", RepositoryFiles.LabelledTakeovers, "--forced", "scenarios/no-such.yaml", "--replicas", "2", "--out", output);

        Assert.Equal(3, code);
        Assert.Contains("no-such.yaml", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>Takeovers of the pushed character after the push beyond the first in a comply scene: neither right nor false.</summary>
    private static int RepeatsOfTheLabel(JsonElement root) => root.GetProperty("scenes").EnumerateArray()
        .Where(s => s.GetProperty("label").GetProperty("kind").GetString() == "comply")
        .Sum(s =>
        {
            var label = s.GetProperty("label");
            var ofLabel = s.GetProperty("takeovers").EnumerateArray().Count(t =>
                t.GetProperty("characterId").GetString() == label.GetProperty("target").GetString()
                && t.GetProperty("lineIndex").GetInt32() >= label.GetProperty("firstReplyIndex").GetInt32());
            return Math.Max(0, ofLabel - 1);
        });
}
