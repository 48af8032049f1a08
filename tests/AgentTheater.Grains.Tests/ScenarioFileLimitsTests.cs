using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Grains.Tests;

/// <summary>Hostile scenario files (each one an input the fuzz tests once crashed the parser with) end in positioned errors.</summary>
public sealed class ScenarioFileLimitsTests
{
    [Theory]
    [InlineData("name: \"\\UFFFFFFFF\"\n")]
    [InlineData("name: \"\\uDC00\\uD800\"\n")]
    public void Parse_EscapeNamingNoCharacter_IsAnInvalidYamlError(string line)
    {
        var only = SingleError("name: x\n" + line + ScenarioFileTests.MinimalCast);

        Assert.Equal(2, only.Line);
        Assert.InRange(only.Column, 1, line.Length);
        Assert.Equal("invalid YAML: an escape sequence (\\u or \\U) before this point names no Unicode character", only.Message);
    }

    [Fact]
    public void Parse_ThousandsOfOpenBrackets_IsANestingErrorAtTheFirstTooDeep()
    {
        var only = SingleError("scenes: " + new string('[', 5_000) + new string(']', 5_000) + "\n");

        // The top mapping is the first level, so the 64th '[' is one too many.
        Assert.Equal((1, 8 + ScenarioFile.MaxNesting, ""), (only.Line, only.Column, only.Field));
        Assert.Equal("nesting deeper than 64 levels; a scenario needs a handful", only.Message);
    }

    [Fact]
    public void Parse_HundredsOfNestedListLines_IsANestingError()
    {
        var lines = string.Concat(Enumerable.Range(0, 300).Select(i => new string(' ', 2 * i) + "-\n"));

        var only = SingleError("characters:\n" + lines);

        Assert.Equal(1 + ScenarioFile.MaxNesting, only.Line);
        Assert.StartsWith("nesting deeper than 64 levels", only.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parse_BillionLaughs_IsRefusedAtTheAliasThatRepeatsTooMuch_Quickly(bool asKey)
    {
        var yaml = new StringBuilder("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 1; level <= 8; level++)
        {
            yaml.Append($"l{level}: &l{level} [").AppendJoin(", ", Enumerable.Repeat($"*l{level - 1}", 9)).Append("]\n");
        }

        yaml.Append(asKey ? "? *l8\n: boom\n" : "boom: *l8\n");
        var clock = Stopwatch.StartNew();

        var only = SingleError(yaml.ToString());

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(6, only.Line);
        Assert.Equal("more than 100,000 values, counting each alias as the values it repeats; a scenario needs far fewer", only.Message);
    }

    [Fact]
    public void Parse_AliasesNestedDeeperThanTheLimit_IsANestingError()
    {
        var yaml = new StringBuilder("a0: &a0 [x]\n");
        for (var level = 1; level <= 100; level++)
        {
            yaml.Append($"a{level}: &a{level} [*a{level - 1}]\n");
        }

        var only = SingleError(yaml.ToString());

        // Line k + 1 holds a list (level 2) repeating a{k-1}, itself k levels deep.
        Assert.Equal(ScenarioFile.MaxNesting, only.Line);
        Assert.Equal("nesting deeper than 64 levels through aliases; a scenario needs a handful", only.Message);
    }

    [Theory]
    [InlineData("a: &x [*x]\n", "alias '*x' is inside the node it names (a recursive alias)")]
    [InlineData("a: &x {b: *x}\n", "alias '*x' is inside the node it names (a recursive alias)")]
    [InlineData("a: *nowhere\n", "alias '*nowhere' names no anchor ('&nowhere') before it")]
    public void Parse_AliasWithoutACompleteAnchor_IsAPositionedError(string yaml, string message)
    {
        var only = SingleError(yaml);

        Assert.Equal((1, message), (only.Line, only.Message));
    }

    [Fact]
    public void Parse_HugeValueInAnError_IsQuotedShortened()
    {
        var only = SingleError(ScenarioFileTests.MinimalCast.Replace("present: [innkeeper]", $"present: [{new string('x', 3_000)}]", StringComparison.Ordinal));

        Assert.Equal(("scenes[0].present[0]", $"unknown character '{new string('x', 40)}... (3,000 characters)' (characters: innkeeper)"), (only.Field, only.Message));
    }

    [Fact]
    public void Parse_ControlAndInvisibleCharactersInAnError_AreEscaped()
    {
        var only = SingleError("replicas: \"1\\e[31m\u200D\"\n" + ScenarioFileTests.MinimalCast);

        Assert.Equal("expected an integer, got '1\\u001B[31m\\u200D'", only.Message);
    }

    [Theory]
    [InlineData("characters: [a, b", 1, 18)]
    [InlineData("characters:\n  - [a, b", 2, 10)]
    [InlineData("characters:\r\n  - [a, b", 2, 10)]
    [InlineData("name: x\u2028characters: [a", 2, 15)]
    public void Parse_TextEndingInsideAList_IsAnErrorAtItsEnd_NotOnALineAfterIt(string yaml, int line, int column)
    {
        var only = SingleError(yaml);

        Assert.Equal((line, column), (only.Line, only.Column));
        Assert.StartsWith("invalid YAML: ", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ListEntryStartingWithAColon_IsAnInvalidYamlError()
    {
        var only = SingleError("characters:\n  - : x\n  - b\n");

        Assert.Equal("invalid YAML: a mapping before this point ends with a key that has no value (does an entry start with ':'?)", only.Message);
        Assert.InRange(only.Line, 2, 3);
    }

    [Fact]
    public void Parse_ScriptedInterventionOverTheLimit_IsAnErrorAtItsTextNamingTheLimit()
    {
        var only = SingleError(ScenarioFileTests.MinimalCast + $"    interventions: [{{turn: 1, text: {new string('x', 4_001)}}}]\n");

        Assert.Equal(
            (8, 37, "scenes[0].interventions[0].text", "is 4,001 characters long; at most 4,000 are allowed"),
            (only.Line, only.Column, only.Field, only.Message));
    }

    [Fact]
    public void Parse_ScriptedInterventionAtTheLimit_IsRead()
    {
        var text = new string('x', ScenarioFile.MaxTextLength);

        var scenario = ScenarioFile.Parse(ScenarioFileTests.MinimalCast + $"    interventions: [{{turn: 1, text: {text}}}]\n", "limits.yaml");

        Assert.Equal(text, Assert.Single(scenario.Scenes[0].Interventions).Text);
    }

    [Theory]
    [InlineData("    role: the innkeeper", "    role: {0}", "characters[0].role")]
    [InlineData("    role: the innkeeper", "    role: the innkeeper\n    goals: [{0}]", "characters[0].goals[0]")]
    [InlineData("    role: the innkeeper", "    role: the innkeeper\n    private_knowledge: [{0}]", "characters[0].private_knowledge[0]")]
    [InlineData("    role: the innkeeper", "    role: the innkeeper\n    speaking_style: {0}", "characters[0].speaking_style")]
    [InlineData("  - setting: A quiet afternoon.", "  - setting: {0}", "scenes[0].setting")]
    [InlineData("  - setting: A quiet afternoon.", "  - setting: Here.\n    narration: [{0}]", "scenes[0].narration[0]")]
    [InlineData("  - setting: A quiet afternoon.", "  - setting: Here.\n    stop_phrases: [{0}]", "scenes[0].stop_phrases[0]")]
    public void Parse_FreeTextOverTheLimit_IsAnErrorNamingTheFieldAndTheLimit(string line, string replacement, string field)
    {
        var yaml = ScenarioFileTests.MinimalCast.Replace(line, string.Format(CultureInfo.InvariantCulture, replacement, new string('x', 5_000)), StringComparison.Ordinal);

        var only = SingleError(yaml);

        Assert.Equal((field, "is 5,000 characters long; at most 4,000 are allowed"), (only.Field, only.Message));
    }

    [Fact]
    public void Parse_TenMegabyteIntervention_IsAFileSizeErrorWhereTheTextPassesTheLimit()
    {
        var prefix = ScenarioFileTests.MinimalCast + "    interventions:\n      - turn: 1\n        text: ";
        var yaml = prefix + new string('x', 10 << 20) + "\n";
        var clock = Stopwatch.StartNew();

        var only = SingleError(yaml);

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        var limitPassedAt = ScenarioFile.MaxFileBytes - prefix.Length;
        Assert.Equal((10, "text: ".Length + 8 + limitPassedAt + 1, ""), (only.Line, only.Column, only.Field));
        Assert.Equal(
            string.Create(CultureInfo.InvariantCulture, $"the file is {yaml.Length:N0} bytes, more than the 1,048,576 (1 MiB) a scenario may have; this is where it passes them"),
            only.Message);
    }

    [Fact]
    public void Load_FileOverTheLimit_IsAFileSizeErrorNamingTheFile()
    {
        using var folder = new TempDirectory();
        var path = folder.File("large.yaml");
        File.WriteAllText(path, ScenarioFileTests.MinimalCast + "# " + new string('\u00E9', 1 << 20) + "\n");

        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Load(path));

        var only = Assert.Single(error.Errors);
        Assert.Equal((path, 8, ""), (only.File, only.Line, only.Field));
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"the file is {new FileInfo(path).Length:N0} bytes, more than the 1,048,576 (1 MiB)"), only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ScenarioOfExactlyTheLimit_IsRead()
    {
        var comment = "# " + new string('\u00E9', (ScenarioFile.MaxFileBytes - ScenarioFileTests.MinimalCast.Length - 2) / 2);
        var yaml = ScenarioFileTests.MinimalCast + comment + new string(' ', ScenarioFile.MaxFileBytes - Encoding.UTF8.GetByteCount(ScenarioFileTests.MinimalCast + comment));
        Assert.Equal(ScenarioFile.MaxFileBytes, Encoding.UTF8.GetByteCount(yaml));

        Assert.Equal("innkeeper", Assert.Single(ScenarioFile.Parse(yaml, "limits.yaml").Characters).Id);
    }

    [Fact]
    public void Parse_UnknownFieldOfAMillionCharacters_IsReportedQuicklyInLittleMemory()
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        // An explicit key ("? "): a plain one may have at most 1,024 characters in YAML.
        var only = SingleError(ScenarioFileTests.MinimalCast + "? " + new string('k', 1_000_000) + "\n: x\n");

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 64 << 20);
        Assert.StartsWith("unknown field 'kkkkkkkkkk", only.Message, StringComparison.Ordinal);
        Assert.EndsWith("(known fields: name, model, prompt_format, memory, replicas, watch_roles, sampling, characters, scenes)", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ThousandsOfCharactersPresentAndWhisperedTo_IsReadQuickly()
    {
        var yaml = new StringBuilder("characters:\n");
        for (var i = 0; i < 8_000; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - {{id: c{i}, name: N{i}, role: r}}\n");
        }

        yaml.Append("scenes:\n  - setting: A crowd.\n    max_turns: 10000\n    present: [").AppendJoin(", ", Enumerable.Range(0, 8_000).Select(i => $"c{i}")).Append("]\n");
        yaml.Append("    interventions:\n");
        for (var i = 0; i < 4_000; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"      - {{turn: {i}, text: psst, to: c{7_999 - i}}}\n");
        }

        var clock = Stopwatch.StartNew();

        var scenario = ScenarioFile.Parse(yaml.ToString(), "crowd.yaml");

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal(8_000, scenario.Scenes[0].Present.Count);
        Assert.Equal(4_000, scenario.Scenes[0].Interventions.Count);
    }

    private static ScenarioError SingleError(string yaml)
    {
        var error = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(yaml, "hostile.yaml"));
        return Assert.Single(error.Errors);
    }
}
