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
        var shared = parent.Take(3).Select(Strip).ToList();
        for (var b = 0; b < 3; b++)
        {
            var branch = File.ReadAllLines(Path.Combine(run, "scenes", $"bar-0~0.{b}.jsonl"));
            Assert.Equal(shared, branch.Take(3).Select(Strip));
            Assert.Equal(parent.Length, branch.Length);
        }

        // The run's tree of forks: the scene, the fork (where, what it shared and copied), every branch played to its end.
        using (var tree = await ReadTreeAsync(run))
        {
            var root = Assert.Single(tree.RootElement.EnumerateArray());
            AssertScene(root, $"{Path.GetFileName(run)}/bar/0", turns: 4);
            var fork = Assert.Single(root.GetProperty("forks").EnumerateArray());
            var made = fork.GetProperty("fork");
            Assert.Equal((0, 2, 3, 6), (made.GetProperty("fork").GetInt32(), made.GetProperty("atTurn").GetInt32(), made.GetProperty("sharedLines").GetInt32(), made.GetProperty("copiedSequences").GetInt32()));
            var branches = fork.GetProperty("branches").EnumerateArray().ToList();
            Assert.Equal(3, branches.Count);
            for (var b = 0; b < 3; b++)
            {
                AssertScene(branches[b], $"{Path.GetFileName(run)}/bar/0~0.{b}", turns: 4);
            }
        }

        Assert.True(File.Exists(Path.Combine(run, "tree.md")));

        // A branch of a branch is a scene too.
        (code, stdout, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0~0.1", "--branches", "2", "--turns", "1", "--sequences", "16", "--context", "1024", "--no-attribution");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(parent.Length + 1, File.ReadAllLines(Path.Combine(run, "scenes", "bar-0~0.1~0.1.jsonl")).Length);
        using (var tree = await ReadTreeAsync(run))
        {
            var forkOfBranch = Assert.Single(tree.RootElement[0].GetProperty("forks")[0].GetProperty("branches")[1].GetProperty("forks").EnumerateArray()).GetProperty("fork");
            Assert.Equal((4, 2), (forkOfBranch.GetProperty("atTurn").GetInt32(), forkOfBranch.GetProperty("branchKeys").GetArrayLength()));
        }

        // Bad requests name what is wrong and leave the run as it was.
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "cellar-0", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--scene: ", stderr, StringComparison.Ordinal);
        Assert.Contains("bar-0~0.0", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0", "--at", "9", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--at: ", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await AgentTheaterAsync("fork", run, "--scene", "bar-0", "--sequences", "16", "--context", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--turns: ", stderr, StringComparison.Ordinal);
        Assert.Equal(parent, File.ReadAllLines(parentFile));
        Assert.False(File.Exists(Path.Combine(run, "scenes", "bar-0~1.0.jsonl")));
    }

    [Fact]
    public async Task Fork_SceneOfAStory_PlaysAndWritesTheStorysLaterScenesInTheBranch()
    {
        var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");
        var (code, stdout, stderr) = await AgentTheaterAsync(
            "run", "scenarios/story.yaml", "--model", fixture.ModelPath, "--out", output, "--sequences", "16", "--context", "1024", "--no-attribution");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var run = Assert.Single(Directory.GetDirectories(output));

        // The cellar comes after the common room, and dawn after the cellar: a branch of the cellar plays dawn on.
        (code, stdout, stderr) = await AgentTheaterAsync("fork", run, "--scene", "cellar-0", "--at", "2", "--branches", "2", "--turns", "1", "--sequences", "16", "--context", "1024", "--no-attribution");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var dawn = File.ReadAllLines(Path.Combine(run, "scenes", "dawn-0.jsonl"));
        for (var b = 0; b < 2; b++)
        {
            var branchDawn = File.ReadAllLines(Path.Combine(run, "scenes", $"dawn-0~0.{b}@cellar.jsonl"));
            Assert.Equal(dawn.Length, branchDawn.Length);
        }

        using var tree = await ReadTreeAsync(run);
        var cellar = tree.RootElement.EnumerateArray().Single(n => n.GetProperty("key").GetString()!.EndsWith("/cellar/0", StringComparison.Ordinal));
        var branches = Assert.Single(cellar.GetProperty("forks").EnumerateArray()).GetProperty("branches").EnumerateArray().ToList();
        Assert.Equal(
            [$"{Path.GetFileName(run)}/dawn/0~0.0@cellar", $"{Path.GetFileName(run)}/dawn/0~0.1@cellar"],
            branches.Select(b => Assert.Single(b.GetProperty("continuations").EnumerateArray()).GetProperty("key").GetString()));
        Assert.Contains("then, in this branch's story:", await File.ReadAllTextAsync(Path.Combine(run, "tree.md"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExperimentTwentyQuestions_SmallRun_ReportsEveryGameAndBranch_AndItsFiguresFollowFromTheGames()
    {
        var output = Path.Combine(fixture.Directory, $"experiments-{Guid.NewGuid():N}");
        var model = RepositoryFiles.ProjectModel;

        var (code, stdout, stderr) = await AgentTheaterAsync(
            "experiment", "twenty-questions", "--games", "2", "--branches", "3", "--questions", "3", "--control", "--model", model, "--out", output, "--parallel", "2", "--sequences", "48", "--context", "768");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
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
        Assert.True(File.Exists(Path.Combine(folder, "results.md")));

        (code, _, stderr) = await AgentTheaterAsync("experiment", "twenty-questions", "--games", "0", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--games: ", stderr, StringComparison.Ordinal);
        Assert.Single(Directory.GetDirectories(output));
    }

    private static async Task<JsonDocument> ReadTreeAsync(string run) =>
        JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(run, "tree.json"), TestContext.Current.CancellationToken));

    private static void AssertScene(JsonElement node, string key, int turns)
    {
        Assert.Equal(key, node.GetProperty("key").GetString());
        var status = node.GetProperty("status");
        Assert.Equal(("completed", turns), (status.GetProperty("phase").GetString(), status.GetProperty("turns").GetInt32()));
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
