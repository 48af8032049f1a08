using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Grains.Tests;

/// <summary>Character and scene ids, and names: what they may hold, and the positioned errors when they break it.</summary>
public sealed class ScenarioFileIdTests
{
    [Theory]
    [InlineData("innkeeper")]
    [InlineData("Guard-2")]
    [InlineData("old_sailor.v2")]
    [InlineData("7th")]
    public void Parse_ValidIds_AreRead(string id)
    {
        var scenario = ScenarioFile.Parse(Scenario(characterId: id, sceneId: id), "ids.yaml");

        Assert.Equal(id, Assert.Single(scenario.Characters).Id);
        Assert.Equal(id, Assert.Single(scenario.Scenes).Id);
        Assert.Equal([id], scenario.Scenes[0].Present);
    }

    [Fact]
    public void Parse_IdOfTheLongestLength_IsRead()
    {
        var id = new string('a', ScenarioFile.MaxIdLength);

        Assert.Equal(id, Assert.Single(ScenarioFile.Parse(Scenario(characterId: id), "ids.yaml").Characters).Id);
    }

    [Theory]
    [InlineData("run/scene", "contains '/', which separates the parts of grain keys")]
    [InlineData("scene~0.1", "contains '~', which starts a branch's name")]
    [InlineData("old sailor", "contains a space")]
    [InlineData("\"old\\tsailor\"", "contains a tab")]
    [InlineData("\"zero\\u200Bwidth\"", "contains U+200B")]
    [InlineData("caf\u00E9", "contains '\u00E9'")]
    [InlineData("-guard", "starts with '-'")]
    [InlineData("..", "starts with '.'")]
    [InlineData("_guard", "starts with '_'")]
    public void Parse_CharacterIdBreakingTheRule_IsAnErrorAtTheIdNamingTheField(string written, string problem)
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(Scenario(characterId: written), "ids.yaml"));

        // The id is still known to the scene that presents it, so the id's error is the only one.
        var only = Assert.Single(error.Errors);
        Assert.Equal((3, 9, "characters[0].id"), (only.Line, only.Column, only.Field));
        Assert.Contains($" is not a valid id: it {problem}; an id is ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 characters", only.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("common/room", "contains '/', which separates the parts of grain keys")]
    [InlineData("common~room", "contains '~', which starts a branch's name")]
    [InlineData("common room", "contains a space")]
    public void Parse_SceneIdBreakingTheRule_IsAnErrorAtTheIdNamingTheField(string written, string problem)
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(Scenario(sceneId: written), "ids.yaml"));

        var only = Assert.Single(error.Errors);
        Assert.Equal((7, 9, "scenes[0].id"), (only.Line, only.Column, only.Field));
        Assert.StartsWith($"'{written}' is not a valid id: it {problem};", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_IdLongerThanTheLimit_IsAnErrorSayingHowLong()
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(Scenario(characterId: new string('a', 65)), "ids.yaml"));

        var only = Assert.Single(error.Errors);
        Assert.Equal("characters[0].id", only.Field);
        Assert.Contains("is not a valid id: it is 65 characters long;", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateIds_AreErrorsAtTheSecond_SceneIdsIgnoringCase()
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse("""
            characters:
              - {id: guard, name: Pike, role: a sergeant}
              - {id: guard, name: Wren, role: a boatwoman}
            scenes:
              - {id: cellar, setting: Dark., present: [guard]}
              - {id: Cellar, setting: Darker., present: [guard]}
            """, "ids.yaml"));

        Assert.Equal(
            [
                (3, 10, "characters[1].id", "duplicate character id 'guard' (first on line 2)"),
                (6, 10, "scenes[1].id", "duplicate scene id 'Cellar' (first on line 5)"),
            ],
            error.Errors.Select(e => (e.Line, e.Column, e.Field, e.Message)));
    }

    [Theory]
    [InlineData("name: \"\"", "must not be empty")]
    [InlineData("name: '   '", "must not be empty")]
    [InlineData("name:", "required field is missing")]
    [InlineData("name: \"Mar\\nta\"", "must be one line without control characters; it contains U+000A")]
    [InlineData("name: \"Mar\\u2028ta\"", "must be one line without control characters; it contains U+2028")]
    public void Parse_CharacterNameEmptyOrNotOneLine_IsAnErrorNamingTheField(string line, string message)
    {
        var yaml = Scenario().Replace("name: Marta", line, StringComparison.Ordinal);

        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "names.yaml"));

        var only = Assert.Single(error.Errors);
        Assert.Equal(("characters[0].name", message), (only.Field, only.Message));
        Assert.Equal(message == "required field is missing" ? 3 : 4, only.Line);
    }

    [Fact]
    public void Parse_NameLongerThanTheLimit_IsAnErrorNamingTheLimit()
    {
        var yaml = Scenario().Replace("name: Marta", $"name: {new string('M', 65)}", StringComparison.Ordinal);

        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "names.yaml"));

        var only = Assert.Single(error.Errors);
        Assert.Equal((4, 11, "characters[0].name", "is 65 characters long; a name may have at most 64"), (only.Line, only.Column, only.Field, only.Message));
    }

    [Fact]
    public void Parse_SpeakerOnTwoLines_IsAnErrorNamingTheField()
    {
        var yaml = Scenario() + "    interventions: [{turn: 1, speaker: \"User\\nMarta\", text: Hello.}]\n";

        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "names.yaml"));

        var only = Assert.Single(error.Errors);
        Assert.Equal(("scenes[0].interventions[0].speaker", "must be one line without control characters; it contains U+000A"), (only.Field, only.Message));
    }

    /// <summary>One character, presented by one scene; line 3 holds the character's id and line 7 the scene's.</summary>
    internal static string Scenario(string characterId = "innkeeper", string? sceneId = "common-room") =>
        $"""
        name: ids
        characters:
          - id: {characterId}
            name: Marta
            role: the innkeeper
        scenes:
          - id: {sceneId}
            setting: A quiet afternoon.
            present: [{characterId}]

        """;
}
