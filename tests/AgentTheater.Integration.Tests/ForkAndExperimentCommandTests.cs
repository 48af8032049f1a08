using System.Text.Json;
using System.Xml.Linq;
using AgentTheater.Analysis.TwentyQuestions;
using static AgentTheater.Integration.Tests.RunCommandTests;

namespace AgentTheater.Integration.Tests;

/// <summary><c>agent-theater fork</c> and <c>agent-theater experiment twenty-questions</c> end to end, as separate processes.</summary>
public sealed class ForkAndExperimentCommandTests(TheaterClusterFixture fixture)
{
    [Fact]
    public async Task Fork_PlayedRun_PlaysTheBranchesFromItsStoredState_AndWritesThemWithTheTree()
    {
        var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");
        var scenario = Path.Combine(fixture.Directory, $"inn-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: inn
            sampling: { temperature: 0.9, seed: 3, max_tokens_per_line: 8 }
            characters:
              - { id: keeper, name: Marta, role: the innkeeper }
              - { id: clerk, name: Quillon, role: a tax clerk }
            scenes:
              - id: bar
                setting: A rainy night in the Grey Goose inn.
                present: [keeper, clerk]
                max_turns: 4
                narration: ["The fire crackles."]
            """, TestContext.Current.CancellationToken);
        var (code, stdout, stderr) = await AgentTheaterAsync("run", scenario, "--model", fixture.ModelPath, "--out", output, "--sequences", "16", "--context", "1024", "--no-attribution");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var run = Assert.Single(Directory.GetDirectories(output));
        var parentFile = Path.Combine(run, "scenes", "bar-0.jsonl");
        var parent = File.ReadAllLines(parentFile);

        // A separate process: the run's grains come back from the run's SQLite state, and the pool prefills the fork point once.
        (code, stdout, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0", "--at", "2", "--branches", "3", "--sequences", "16", "--context", "1024", "--no-attribution");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("fork 0 of bar-0 at turn 2: 3 branches share 3 lines; 6 sequences copied", stderr, StringComparison.Ordinal);
        var shared = parent.Take(3).Select(Strip).ToList();
        for (var b = 0; b < 3; b++)
        {
            var branch = File.ReadAllLines(Path.Combine(run, "scenes", $"bar-0~0.{b}.jsonl"));
            Assert.Equal(shared, branch.Take(3).Select(Strip));
            Assert.Equal(parent.Length, branch.Length);
            Assert.Contains($"| bar-0~0.{b} | Completed | 4 | ", stdout, StringComparison.Ordinal);
        }

        var tree = await File.ReadAllTextAsync(Path.Combine(run, "tree.md"), TestContext.Current.CancellationToken);
        Assert.Contains("- `bar-0`: Completed, 4 turns", tree, StringComparison.Ordinal);
        Assert.Contains("    - fork 0 at turn 2: 3 branches sharing 3 lines; 6 sequences copied", tree, StringComparison.Ordinal);
        Assert.Contains("        - `bar-0~0.2`: Completed, 4 turns", tree, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(run, "tree.json"), TestContext.Current.CancellationToken));
        Assert.Equal(3, json.RootElement[0].GetProperty("forks")[0].GetProperty("branches").GetArrayLength());

        // A branch of a branch is a scene too.
        (code, stdout, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0~0.1", "--branches", "2", "--turns", "1", "--sequences", "16", "--context", "1024", "--no-attribution");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(parent.Length + 1, File.ReadAllLines(Path.Combine(run, "scenes", "bar-0~0.1~0.1.jsonl")).Length);
        Assert.Contains("            - fork 0 at turn 4: 2 branches", await File.ReadAllTextAsync(Path.Combine(run, "tree.md"), TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // Bad requests name what is wrong and leave the run as it was.
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "cellar-0", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--scene: no scene 'cellar-0' in run", stderr, StringComparison.Ordinal);
        Assert.Contains("its scenes are bar-0, bar-0~0.0", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0", "--at", "9", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--at: scene bar-0 has 4 character turns: fork at turn 0 to 4, not 9.", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--turns: scene bar-0 plays 4 turns, all before the fork at turn 4", stderr, StringComparison.Ordinal);
        Assert.Equal(parent, File.ReadAllLines(parentFile));
        Assert.False(File.Exists(Path.Combine(run, "scenes", "bar-0~1.0.jsonl")));
    }

    [Fact]
    public async Task ExperimentTwentyQuestions_SmallRun_ReportsEveryGameAndBranch_AndItsFiguresFollowFromTheGames()
    {
        var output = Path.Combine(fixture.Directory, $"experiments-{Guid.NewGuid():N}");
        var model = RepositoryFiles.ProjectModel;

        var (code, stdout, stderr) = await AgentTheaterAsync(
            "experiment", "twenty-questions", "--games", "2", "--branches", "3", "--questions", "3", "--control", "--model", model, "--out", output, "--parallel", "2", "--sequences", "48", "--context", "768");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("| condition | games | reveals |", stdout, StringComparison.Ordinal);
        var folder = Assert.Single(Directory.GetDirectories(output));
        using var results = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "results.json"), TestContext.Current.CancellationToken));
        var root = results.RootElement;
        var catalogue = ObjectCatalogue.Default;
        Assert.Equal(catalogue.Objects, root.GetProperty("catalogue").EnumerateArray().Select(o => o.GetString()));
        Assert.Equal(["uncommitted", "committed"], root.GetProperty("conditions").EnumerateArray().Select(c => c.GetProperty("condition").GetString()));
        var games = root.GetProperty("games").EnumerateArray().ToList();
        Assert.Equal(4, games.Count);
        foreach (var game in games)
        {
            var condition = game.GetProperty("condition").GetString();
            Assert.Equal(condition == "committed", game.TryGetProperty("secret", out var secret) && secret.ValueKind == JsonValueKind.String);

            // The consistency the report gives is the catalogue's verdict on the answers it read.
            var answered = game.GetProperty("questions").EnumerateArray()
                .Where(q => q.TryGetProperty("asked", out _) && q.TryGetProperty("yes", out _))
                .Select(q => new AnsweredQuestion(Question(q.GetProperty("asked")), q.GetProperty("yes").GetBoolean()))
                .ToList();
            var consistent = TwentyQuestionsConsistency.Default.ConsistentObjects(answered);
            Assert.Equal(consistent, game.GetProperty("consistentObjects").EnumerateArray().Select(o => o.GetString()));
            var reveals = game.GetProperty("reveals").EnumerateArray().ToList();
            Assert.Equal(3, reveals.Count);
            foreach (var reveal in reveals)
            {
                var parsed = TwentyQuestionsParser.Default.ParseReveal(reveal.GetProperty("text").GetString()!);
                Assert.Equal(parsed.Object, reveal.TryGetProperty("object", out var named0) ? named0.GetString() : null);
                if (parsed.Object is { } named)
                {
                    Assert.Equal(consistent.Contains(named), reveal.GetProperty("consistent").GetBoolean());
                }

                // The branch started from the copied sequence: only the narrator's question and the name cue were decoded.
                Assert.InRange(reveal.GetProperty("prefillTokens").GetInt32(), 1, 30);
            }

            var scored = game.GetProperty("scored").EnumerateArray().Select(p => p.GetDouble()).ToList();
            Assert.Equal(catalogue.Objects.Count, scored.Count);
            Assert.Equal(1.0, scored.Sum(), 6);
            var narrowing = game.GetProperty("narrowing").EnumerateArray().ToList();
            Assert.Equal(game.GetProperty("questions").GetArrayLength() + 1, narrowing.Count);
            Assert.Equal(catalogue.Objects.Count, narrowing[0].GetProperty("consistent").GetInt32());
            Assert.Equal(consistent.Count, narrowing[^1].GetProperty("consistent").GetInt32());
            Assert.Equal(scored.Select((p, i) => consistent.Contains(catalogue.Objects[i]) ? p : 0).Sum(), narrowing[^1].GetProperty("consistentMass").GetDouble(), 9);
            Assert.True(File.Exists(Path.Combine(folder, "scenes", $"{condition}-{game.GetProperty("game").GetInt32()}-0~0.2.md")));
        }

        var plot = XDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "reveals.svg"), TestContext.Current.CancellationToken));
        Assert.Contains(plot.Descendants().Where(e => e.Name.LocalName == "text"), t => t.Value == "committed");
        Assert.Contains("## uncommitted: narrowing question by question", await File.ReadAllTextAsync(Path.Combine(folder, "results.md"), TestContext.Current.CancellationToken), StringComparison.Ordinal);

        (code, _, stderr) = await AgentTheaterAsync("experiment", "twenty-questions", "--games", "0", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--games: 0 is out of range (1 to 10000)", stderr, StringComparison.Ordinal);
        Assert.Single(Directory.GetDirectories(output));
    }

    private static TwentyQuestionsQuestion Question(JsonElement asked) =>
        asked.TryGetProperty("attribute", out var key) && key.GetString() is { } attribute
            ? TwentyQuestionsQuestion.About(attribute)
            : TwentyQuestionsQuestion.Guess(asked.GetProperty("guessedObject").GetString()!);

    /// <summary>A transcript line without its timings (a line is the same line whenever it was timed).</summary>
    private static string Strip(string jsonLine)
    {
        using var line = JsonDocument.Parse(jsonLine);
        var r = line.RootElement;
        return $"{r.GetProperty("index").GetInt32()} {r.GetProperty("speaker").GetString()}: {r.GetProperty("text").GetString()}";
    }
}
