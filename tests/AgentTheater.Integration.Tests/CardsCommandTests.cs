using AgentTheater.Grains.Scenarios;
using static AgentTheater.Integration.Tests.RunCommandTests;

namespace AgentTheater.Integration.Tests;

/// <summary><c>agent-theater cards export</c> as a process: the cards it writes import as the same characters.</summary>
public sealed class CardsCommandTests(TheaterClusterFixture fixture)
{
    [Fact]
    public async Task CardsExport_Story_WritesACardPerCharacterThatImportsAsTheSameCharacter()
    {
        var folder = Path.Combine(fixture.Directory, $"cards-{Guid.NewGuid():N}");

        var (code, stdout, stderr) = await AgentTheaterAsync("cards", "export", "scenarios/story.yaml", "--out", folder);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var story = ScenarioFile.Load("scenarios/story.yaml");
        Assert.Equal(story.Characters.Select(c => $"{c.Id}.json").Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // A scenario made of the cards alone plays the same characters.
        var scenario = Path.Combine(folder, "from-cards.yaml");
        await File.WriteAllTextAsync(
            scenario,
            "characters:\n" + string.Concat(story.Characters.Select(c => $"  - card: {c.Id}.json\n"))
                + "scenes:\n  - {id: one, setting: A room., present: [" + string.Join(", ", story.Characters.Select(c => c.Id)) + "]}\n",
            TestContext.Current.CancellationToken);
        var imported = ScenarioFile.Load(scenario);
        Assert.Equal(story.Characters.Select(c => (c.Id, c.Name, c.Role, c.SpeakingStyle)), imported.Characters.Select(c => (c.Id, c.Name, c.Role, c.SpeakingStyle)));
        Assert.Equal(story.Characters.Select(c => string.Join('|', c.Goals)), imported.Characters.Select(c => string.Join('|', c.Goals)));
        Assert.Equal(story.Characters.Select(c => string.Join('|', c.PrivateKnowledge)), imported.Characters.Select(c => string.Join('|', c.PrivateKnowledge)));
        (code, stdout, stderr) = await AgentTheaterAsync("validate", scenario);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");

        // A scenario that does not exist: exit 3 naming it (as run and validate), nothing written.
        var missing = Path.Combine(folder, "missing");
        (code, _, stderr) = await AgentTheaterAsync("cards", "export", "no-such.yaml", "--out", missing);
        Assert.Equal(3, code);
        Assert.Contains("no-such.yaml", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }
}
