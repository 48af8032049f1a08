using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Grains.Tests;

/// <summary>Hostile scenario files (each one an input the fuzz tests once crashed the parser with) end in positioned errors.</summary>
public sealed class ScenarioFileLimitsTests
{
    private const string MinimalCast = """
        characters:
          - id: innkeeper
            name: Marta
            role: the innkeeper
        scenes:
          - setting: A quiet afternoon.
            present: [innkeeper]

        """;

    [Theory]
    [InlineData("name: \"\\UFFFFFFFF\"\n")]
    [InlineData("name: \"\\uDC00\\uD800\"\n")]
    public void Parse_EscapeNamingNoCharacter_IsAnInvalidYamlError(string line)
    {
        var only = SingleError("name: x\n" + line + MinimalCast);

        Assert.Equal(2, only.Line);
        Assert.InRange(only.Column, 1, line.Length);
        Assert.Equal("invalid YAML: an escape sequence (\\u or \\U) before this point names no Unicode character", only.Message);
    }

    private static ScenarioError SingleError(string yaml)
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "hostile.yaml"));
        return Assert.Single(error.Errors);
    }
}
