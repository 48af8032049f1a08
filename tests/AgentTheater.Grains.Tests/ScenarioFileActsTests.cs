using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Grains.Tests;

/// <summary>A scene's <c>after</c>: the default rule, explicit lists and their errors.</summary>
public sealed class ScenarioFileActsTests
{
    private const string Cast = """
        characters:
          - {id: a, name: Ann, role: first}
          - {id: b, name: Ben, role: second}
          - {id: c, name: Cy, role: third}
        """;

    private static string Scenes(string scenes) => Cast + "\nscenes:\n" + scenes;

    private static ScenarioError SingleError(string yaml) =>
        Assert.Single(Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "acts.yaml")).Errors);

    [Fact]
    public void Parse_NoAfter_ComesAfterTheNearestEarlierSceneOfEachOfItsCharacters()
    {
        var scenario = ScenarioFile.Parse(Scenes("""
              - {id: one, setting: One., present: [a, b]}
              - {id: two, setting: Two., present: [c]}
              - {id: three, setting: Three., present: [b]}
              - {id: four, setting: Four., present: [c, a]}
            """), "acts.yaml");

        // Four has c (last in two) and a (last in one): it waits for both, so neither is in two scenes at once.
        Assert.Equal([[], [], ["one"], ["one", "two"]], scenario.Scenes.Select(s => s.After!.ToArray()));
    }

    [Fact]
    public void Parse_DisjointCasts_PlayAtOnce()
    {
        var scenario = ScenarioFile.Parse(Scenes("""
              - {id: one, setting: One., present: [a]}
              - {id: two, setting: Two., present: [b]}
              - {id: three, setting: Three., present: [c]}
            """), "acts.yaml");

        Assert.All(scenario.Scenes, s => Assert.Empty(s.After!));
    }

    [Fact]
    public void Parse_ExplicitAfter_ReplacesTheDefaultAndEmptyMeansAtTheStart()
    {
        var scenario = ScenarioFile.Parse(Scenes("""
              - {id: one, setting: One., present: [a]}
              - {id: two, setting: Two., present: [b]}
              - {id: three, setting: Three., present: [a, b], after: [two, one]}
              - {id: four, setting: Four., present: [c], after: []}
              - {id: five, setting: Five., present: [c], after: four}
            """), "acts.yaml");

        Assert.Equal([[], [], ["two", "one"], [], ["four"]], scenario.Scenes.Select(s => s.After!.ToArray()));
    }

    [Fact]
    public void Parse_NoAfter_SkipsScenesThatComeBeforeAnotherItWaitsFor()
    {
        var scenario = ScenarioFile.Parse(Scenes("""
              - {id: one, setting: One., present: [a, b]}
              - {id: two, setting: Two., present: [a]}
              - {id: three, setting: Three., present: [a, b]}
            """), "acts.yaml");

        // Three's b was last in one, but two comes after one already.
        Assert.Equal([[], ["one"], ["two"]], scenario.Scenes.Select(s => s.After!.ToArray()));
    }

    [Fact]
    public void Parse_ScenesSharingACharacterThatCouldPlayAtOnce_IsAPositionedError()
    {
        var error = SingleError(Scenes("""
              - {id: one, setting: One., present: [a, b]}
              - {id: two, setting: Two., present: [c]}
              - {id: three, setting: Three., present: [b, c], after: [two]}
            """));

        Assert.Equal(("acts.yaml", 8, 58, "scenes[2].after"), (error.File, error.Line, error.Column, error.Field));
        Assert.Equal("character 'b' is in scenes 'one' and 'three', which could play at once; a character plays one scene at a time: put 'one' in the after of 'three'", error.Message);
    }

    [Fact]
    public void Parse_AfterUnknownScene_IsAPositionedError()
    {
        var error = SingleError(Scenes("""
              - {id: one, setting: One., present: [a]}
              - {id: two, setting: Two., present: [a], after: [one, tree]}
            """));

        Assert.Equal(("acts.yaml", 7, 57, "scenes[1].after[1]"), (error.File, error.Line, error.Column, error.Field));
        Assert.Equal("unknown scene 'tree' (scenes: one, two)", error.Message);
    }

    [Fact]
    public void Parse_SceneAfterItself_IsAPositionedError()
    {
        var error = SingleError(Scenes("""
              - {id: one, setting: One., present: [a]}
              - id: two
                setting: Two.
                present: [a]
                after:
                  - two
            """));

        Assert.Equal(("acts.yaml", 11, 9, "scenes[1].after[0]"), (error.File, error.Line, error.Column, error.Field));
        Assert.Equal("scene 'two' cannot come after itself", error.Message);
    }

    [Fact]
    public void Parse_Cycle_IsAPositionedErrorNamingTheScenesInOrder()
    {
        // one after three (explicit), two after one (default: shares a), three after two (explicit).
        var error = SingleError(Scenes("""
              - {id: one, setting: One., present: [a], after: [three]}
              - {id: two, setting: Two., present: [a, b]}
              - {id: three, setting: Three., present: [c], after: [two]}
            """));

        Assert.Equal(("acts.yaml", 6, 52, "scenes[0].after[0]"), (error.File, error.Line, error.Column, error.Field));
        Assert.Equal("the scenes come after each other in a cycle: 'one' after 'three' after 'two' after 'one'", error.Message);
    }

    [Fact]
    public void Load_Story_PlaysItsThreeScenesInOrder()
    {
        var story = ScenarioFile.Load(Path.Combine(AppContext.BaseDirectory, "scenarios", "story.yaml"));

        Assert.Equal(["common-room", "cellar", "dawn"], story.Scenes.Select(s => s.Id));
        Assert.Equal([[], ["common-room"], ["cellar"]], story.Scenes.Select(s => s.After!.ToArray()));
    }
}
