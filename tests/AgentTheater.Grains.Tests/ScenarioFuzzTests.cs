using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Scenarios;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace AgentTheater.Grains.Tests;

/// <summary>
/// The scenario parser under mutated files: every input ends in a scenario or in positioned errors, in bounded time and
/// memory. Cases come from a fixed seed (set AGENT_THEATER_FUZZ_SEED to explore others; a failure prints the seed
/// and the case's mutations, which replay it).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ScenarioFuzzTests
{
    private const int MutationCases = 10_000;

    /// <summary>Far above the few milliseconds a case takes, far below a hang; generous for two shared cores.</summary>
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(2);

    /// <summary>What one parse may allocate: a few copies of the text, plus its values (at most ScenarioFile.MaxYamlNodes) as objects.</summary>
    private const long AllocationPerInputChar = 64;

    private const long AllocationAllowance = 64 << 20;

    private static readonly string ScenarioFolder = Path.Combine(AppContext.BaseDirectory, "scenarios");

    private static readonly (string Name, string[] Lines)[] Sources =
        [.. Directory.GetFiles(ScenarioFolder, "*.yaml").Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')))];

    [Fact(Timeout = 300_000)]
    public async Task Parse_MutatedShippedScenarios_EndInAScenarioOrPositionedErrors()
    {
        var stats = new FuzzStats();

        await Task.Run(() => Check.One(Configuration(MutationCases), Prop.ForAll(Arb.From(MutatedScenario), c => ParseAndCheck(c.Text, c.ToString(), stats))), TestContext.Current.CancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine(stats.ToString());
        Assert.Equal(MutationCases, stats.Cases);
        Assert.True(stats.Valid > 0, "no mutated case stayed valid: the mutations are too coarse to reach the validator's later checks");
        Assert.True(stats.Invalid > 0, "no mutated case was invalid");
    }

    [Fact(Timeout = 120_000)]
    public async Task Parse_RandomIdsAndNames_AreAcceptedExactlyWhenTheyKeepTheRules_ElseErrorsAtTheirFields()
    {
        var stats = new FuzzStats();

        await Task.Run(() => Check.One(Configuration(IdCases), Prop.ForAll(Arb.From(IdsAndName), c => CheckIdsAndName(c, stats))), TestContext.Current.CancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine(stats.ToString());
        Assert.True(stats.Valid > IdCases / 10 && stats.Invalid > IdCases / 10, stats.ToString());
    }

    private static void CheckIdsAndName(IdsAndNameCase c, FuzzStats stats)
    {
        // Written as double-quoted YAML, every character escaped, so that the value read is exactly the one generated.
        var yaml = $"""
            characters:
              - id: {Quoted(c.CharacterId)}
                name: {Quoted(c.Name)}
                role: the innkeeper
            scenes:
              - id: {Quoted(c.SceneId)}
                setting: A quiet afternoon.
                present: [{Quoted(c.CharacterId)}]

            """;
        var characterId = c.CharacterId.Trim();
        var expected = new List<string>();
        if (!ScenarioRules.IsValidId(characterId))
        {
            expected.Add("characters[0].id");
        }

        if (!ScenarioRules.IsValidName(c.Name.Trim()))
        {
            expected.Add("characters[0].name");
        }

        if (!ScenarioRules.IsValidId(c.SceneId.Trim()))
        {
            expected.Add("scenes[0].id");
        }

        if (characterId.Length == 0)
        {
            expected.Add("scenes[0].present[0]");
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            var scenario = ScenarioFile.Parse(yaml, "ids.yaml");
            stats.Record(clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated, valid: true);
            Assert.True(expected.Count == 0, $"{c}: accepted, expected errors at {string.Join(", ", expected)}");
            Assert.Equal((characterId, c.SceneId.Trim(), c.Name.Trim()), (scenario.Characters[0].Id, scenario.Scenes[0].Id, scenario.Characters[0].Name));
        }
        catch (ScenarioValidationException e)
        {
            stats.Record(clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated, valid: false);
            Assert.True(
                expected.Order(StringComparer.Ordinal).SequenceEqual(e.Errors.Select(error => error.Field).Order(StringComparer.Ordinal)),
                $"{c}: errors at {string.Join(", ", e.Errors.Select(error => $"{error.Field} ({error.Message})"))}, expected at {string.Join(", ", expected)}");
            Assert.All(e.Errors, error => Assert.Equal(ErrorLines[error.Field], error.Line));
        }
    }

    private static string Quoted(string value) =>
        "\"" + string.Concat(value.Select(ch => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)ch:X4}"))) + "\"";

    private const int IdCases = 2_000;

    private static readonly Dictionary<string, int> ErrorLines = new()
    {
        ["characters[0].id"] = 2, ["characters[0].name"] = 3, ["scenes[0].id"] = 6, ["scenes[0].present[0]"] = 8,
    };

    private static readonly char[] IdCharacters = [.. "abcxyzABCXYZ0189-_."];

    private static readonly char[] OddCharacters = [.. "/~ \t\n\r:#'\"\\\u00E9\u00DF\u200B\u200D\u200F\u2028\u0000\u0085\uFEFF"];

    private static Gen<string> Identifier =>
        from length in Gen.Frequency((6, Gen.Choose(1, 12)), (1, Gen.Choose(0, 2)), (1, Gen.Choose(60, 70)))
        from chars in Gen.ArrayOf(Gen.Frequency((20, Gen.Elements(IdCharacters)), (1, Gen.Elements(OddCharacters))), length)
        select new string(chars);

    private static Gen<IdsAndNameCase> IdsAndName =>
        from characterId in Identifier
        from sceneId in Identifier
        from name in Identifier
        select new IdsAndNameCase(characterId, sceneId, name);

    /// <summary>Parses <paramref name="text"/> and checks the outcome is a scenario or errors inside the text, quickly and in bounded memory.</summary>
    private static void ParseAndCheck(string text, string label, FuzzStats stats)
    {
        const string file = "fuzz.yaml";
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        ScenarioDefinition? scenario = null;
        ScenarioValidationException? invalid = null;
        try
        {
            scenario = ScenarioFile.Parse(text, file);
        }
        catch (ScenarioValidationException e)
        {
            invalid = e;
        }
        catch (Exception e)
        {
            Assert.Fail($"{label}: threw {e.GetType().FullName} instead of ScenarioValidationException: {e.Message}");
        }

        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        stats.Record(clock.Elapsed, allocated, scenario is not null);
        if (clock.Elapsed >= PerCase)
        {
            Assert.Fail($"{label}: took {clock.Elapsed.TotalMilliseconds:F0} ms (limit {PerCase.TotalMilliseconds:F0} ms)");
        }

        var allowed = AllocationAllowance + (AllocationPerInputChar * text.Length);
        if (allocated > allowed)
        {
            Assert.Fail($"{label}: allocated {allocated:N0} bytes for {text.Length:N0} characters (limit {allowed:N0})");
        }

        if (scenario is not null)
        {
            ScenarioRules.AssertHolds(scenario);
            return;
        }

        var lines = YamlLines.Lengths(text);
        Assert.NotEmpty(invalid!.Errors);
        foreach (var error in invalid.Errors)
        {
            var problem = error.File != file ? $"names file '{error.File}'"
                : error.Line < 1 || error.Line > lines.Count ? $"is on line {error.Line}, but the text has {lines.Count}"
                : error.Column < 1 || error.Column > lines[error.Line - 1] + 1 ? $"is at column {error.Column}, but line {error.Line} has {lines[error.Line - 1]} characters"
                : string.IsNullOrWhiteSpace(error.Message) ? "has no message"
                : error.Message.Length > 2_000 ? $"has a message of {error.Message.Length:N0} characters"
                : null;
            if (problem is not null)
            {
                Assert.Fail($"{label}: error {Payload.Escape(error.ToString(), 300)} {problem}");
            }
        }
    }

    internal static Config Configuration(int cases)
    {
        var seed = Environment.GetEnvironmentVariable("AGENT_THEATER_FUZZ_SEED") is { Length: > 0 } text
            ? ulong.Parse(text, CultureInfo.InvariantCulture)
            : 20_240_518UL;
        var replay = new Replay(new Rnd(seed, 0x9E37_79B9_7F4A_7C15UL), FSharpOption<int>.None);
        return Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true).WithReplay(FSharpOption<Replay>.Some(replay));
    }

    private static Gen<FuzzCase> MutatedScenario =>
        from source in Gen.Choose(0, Sources.Length - 1)
        from mutations in Gen.Choose(1, 4).SelectMany(n => Gen.ListOf(Mutation, n))
        select new FuzzCase(Sources[source].Name, Sources[source].Lines, [.. mutations]);

    private static Gen<Mutation> Mutation =>
        from kind in Gen.Frequency(
            (3, Gen.Constant(MutationKind.Delete)),
            (3, Gen.Constant(MutationKind.Duplicate)),
            (2, Gen.Constant(MutationKind.Move)),
            (6, Gen.Constant(MutationKind.Value)),
            (3, Gen.Constant(MutationKind.Insert)),
            (2, Gen.Constant(MutationKind.Line)),
            (2, Gen.Constant(MutationKind.Indent)),
            (1, Gen.Constant(MutationKind.Truncate)),
            (1, Gen.Constant(MutationKind.Splice)))
        from line in Gen.Choose(0, int.MaxValue)
        from position in Gen.Choose(0, int.MaxValue)
        from payload in kind switch
        {
            MutationKind.Indent => Indents,
            MutationKind.Splice => SplicedLine,
            MutationKind.Line => Gen.Frequency((3, Payloads), (1, Bombs)),
            _ => Payloads,
        }
        select new Mutation(kind, line, position, payload);

    private static Gen<Payload> Payloads => Gen.Frequency(
        (8, Gen.Elements(Scalars)),
        (4, Gen.Elements(Collections)),
        (5, Gen.Elements(OddUnicode)),
        (3, OddText),
        (3, Gen.Elements(OddIds)),
        (2, Deep),
        (2, Bombs),
        (1, Long));

    private static readonly Payload[] Scalars =
    [
        .. new[]
        {
            "1e308", "-1e308", "1e39", "99999999999999999999", "-99999999999999999999", "-1", "0", "-0", "2147483648", "-2147483649",
            "9223372036854775808", ".inf", "-.inf", ".nan", "NaN", "Infinity", "0x1F", "0o17", "1_000", "+5", "1.5", "5.", "1,5",
            "true", "no", "null", "~", "''", "\"\"", "'   '", "\"\\t\\n\"", "|", ">", "|-\n  a block", ">+\n\n", "!!binary aGVsbG8=",
            "!custom x", "!!int x", "!!str 12", "!<tag:yaml.org,2002:map> x", "&a x", "*a", "*nope", "? x", "@x", "`x`", "%x",
            "# a comment", "-", "- x", ": x", "::", "x: y: z", "'unclosed", "\"unclosed", "\"\\q\"", "'it''s'", "x #", "---", "...",
        }.Select(Payload.Verbatim),
    ];

    private static readonly Payload[] Collections =
    [
        .. new[]
        {
            "[]", "{}", "[a, b]", "[[a]]", "{a: 1}", "{id: x, name: y, role: z}", "[{turn: 1, text: x}]", "[1e308, -1]", "[a,", "{a: [",
            "[a]]", "{a: 1, a: 2}", "{? [a] : b}", "{[a]: b}", "[- a]", "[a: b]", "\n  - a\n  - b", "\n  a: 1\n  b: 2", "\n- {id: x}",
        }.Select(Payload.Verbatim),
    ];

    private static readonly Payload[] OddUnicode =
    [
        new("\u200F", "RTL mark"), new("\u202E", "RTL override"), new("\u200D", "zero-width joiner"), new("\u200B", "zero-width space"),
        new("\uD800", "lone high surrogate"), new("\uDC00", "lone low surrogate"), new("\uDBFF\uDFFF", "last surrogate pair"),
        new("\0", "NUL"), new("\U0001F600", "emoji"), new("\U0001F469\u200D\U0001F469\u200D\U0001F467", "family emoji"),
        new("\uFEFF", "BOM"), new("\u2028", "line separator"), new("\u2029", "paragraph separator"), new("\u0085", "NEL"),
        new("\r", "CR"), new("\u0001", "control"), new("\u007F", "DEL"), new("\u0301", "combining accent"), new("\uFDFA", "ligature"),
        new("\uFFFE", "non-character FFFE"), new("\uFFFF", "non-character FFFF"), new("\"\\U0010FFFF\"", "escape U+10FFFF"),
        new("\"\\UFFFFFFFF\"", "escape UFFFFFFFF"), new("\"\\U00110000\"", "escape U+110000"), new("\"\\uD800\"", "escape lone surrogate"),
        new("\"\\x00\"", "escape x00"), new("\"\\0\"", "escape NUL"), new("\"\\N\\_\\L\\P\"", "escapes NEL NBSP LS PS"),
        new("\"\\uDBFF\\uDFFF\"", "escape pair"), new("\"\\uDC00\\uD800\"", "escape reversed pair"),
    ];

    private static Gen<Payload> OddText =>
        from parts in Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Frequency((3, Gen.Elements(OddUnicode)), (2, Gen.Elements(Payload.Verbatim("a"), Payload.Verbatim(" "), Payload.Verbatim("\t"), Payload.Verbatim(":"), Payload.Verbatim("#")))), n))
        select new Payload(string.Concat(parts.Select(p => p.Text)), string.Join("+", parts.Select(p => p.Label)));

    private static readonly Payload[] OddIds =
    [
        .. new[] { "a/b", "a~b", "a b", "\"a\\tb\"", "' a '", "../x", "a.b", "\u00E9", "-", "_", ".", "a\u200Db", "\"a\\nb\"", "x/0/1", "a~0.1", "A-Z_09.x" }
            .Select(Payload.Verbatim),
    ];

    private static Gen<Payload> Deep =>
        from depth in Gen.Frequency((3, Gen.Choose(1, 200)), (2, Gen.Choose(200, 4_000)))
        from shape in Gen.Choose(0, 5)
        select shape switch
        {
            0 => new Payload(new string('[', depth) + new string(']', depth), $"[ x{depth} closed"),
            1 => new Payload(new string('[', depth), $"[ x{depth} unclosed"),
            2 => new Payload(string.Concat(Enumerable.Repeat("{a: ", depth)) + "x" + new string('}', depth), $"{{a: x{depth}"),
            3 => new Payload(string.Concat(Enumerable.Repeat("- ", depth)) + "x", $"'- ' x{depth} inline"),
            4 => new Payload(string.Concat(Enumerable.Range(1, depth).Select(i => "\n" + new string(' ', 2 * i) + "-")) + " x", $"- x{depth} indented"),
            _ => new Payload(string.Concat(Enumerable.Range(1, depth).Select(i => "\n" + new string(' ', i) + "k:")) + " x", $"k: x{depth} indented"),
        };

    /// <summary>"Billion laughs": each anchor holds <c>width</c> aliases of the one before, <c>levels</c> deep.</summary>
    private static Gen<Payload> Bombs =>
        from width in Gen.Choose(2, 10)
        from levels in Gen.Choose(2, 12)
        from asKey in Gen.Elements(false, true)
        select Bomb(width, levels, asKey);

    private static Payload Bomb(int width, int levels, bool asKey)
    {
        var text = new StringBuilder("[&l0 [");
        text.AppendJoin(", ", Enumerable.Repeat("lol", width)).Append(']');
        for (var level = 1; level < levels; level++)
        {
            text.Append($", &l{level} [").AppendJoin(", ", Enumerable.Repeat($"*l{level - 1}", width)).Append(']');
        }

        text.Append(asKey ? $", {{*l{levels - 1} : x}}]" : $", *l{levels - 1}]");
        return new Payload(text.ToString(), $"alias bomb {width}^{levels}{(asKey ? " as a key" : "")}");
    }

    private static Gen<Payload> Long =>
        from length in Gen.Frequency((4, Gen.Choose(4_000, 50_000)), (2, Gen.Choose(50_000, 400_000)), (1, Gen.Choose(1_000_000, 1_200_000)))
        from shape in Gen.Choose(0, 2)
        select shape switch
        {
            0 => new Payload(new string('x', length), $"{length} x 'x'"),
            1 => new Payload("[" + string.Concat(Enumerable.Repeat("a, ", length / 3)) + "a]", $"list of {length / 3 + 1} items"),
            _ => new Payload("\"" + new string('\u00E9', length) + "\"", $"{length} x 'é' quoted"),
        };

    private static Gen<Payload> Indents => Gen.Elements(
        Payload.Verbatim(""), Payload.Verbatim(" "), Payload.Verbatim("\t"), Payload.Verbatim("  \t"), Payload.Verbatim("\t  "),
        Payload.Verbatim("      "), Payload.Verbatim(new string(' ', 200)));

    private static Gen<Payload> SplicedLine =>
        from source in Gen.Choose(0, Sources.Length - 1)
        from line in Gen.Choose(0, int.MaxValue)
        let lines = Sources[source].Lines
        select new Payload(lines[line % lines.Length], $"{Sources[source].Name} line {line % lines.Length + 1}");
}

/// <summary>Counts and extremes of a fuzz run, for the test's output.</summary>
internal sealed class FuzzStats
{
    public int Cases { get; private set; }

    public int Valid { get; private set; }

    public int Invalid => Cases - Valid;

    public TimeSpan Total { get; private set; }

    public TimeSpan Slowest { get; private set; }

    public long MostAllocated { get; private set; }

    public void Record(TimeSpan elapsed, long allocated, bool valid)
    {
        Cases++;
        Valid += valid ? 1 : 0;
        Total += elapsed;
        Slowest = elapsed > Slowest ? elapsed : Slowest;
        MostAllocated = Math.Max(MostAllocated, allocated);
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Cases} cases: {Valid} valid, {Invalid} invalid; parsing took {Total.TotalSeconds:F1} s in all, {Slowest.TotalMilliseconds:F0} ms at most; at most {MostAllocated / 1048576.0:F1} MiB allocated by one case");
}

/// <summary>A text inserted by a mutation, with a short label that names it in a failure.</summary>
internal sealed record Payload(string Text, string Label)
{
    public static Payload Verbatim(string text) => new(text, Escape(text));

    public static string Escape(string text, int max = 60)
    {
        var escaped = new StringBuilder();
        foreach (var c in text.Length > max ? text[..max] : text)
        {
            escaped.Append(c is >= ' ' and < '\u007F' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        return text.Length > max ? $"'{escaped}'... ({text.Length} characters)" : $"'{escaped}'";
    }
}

internal enum MutationKind
{
    /// <summary>Removes the line.</summary>
    Delete,

    /// <summary>Writes the line twice.</summary>
    Duplicate,

    /// <summary>Moves the line elsewhere.</summary>
    Move,

    /// <summary>Replaces what follows the line's first <c>:</c> or <c>-</c>.</summary>
    Value,

    /// <summary>Inserts the payload inside the line.</summary>
    Insert,

    /// <summary>Inserts the payload as a line of its own, indented as the line.</summary>
    Line,

    /// <summary>Replaces the line's indentation.</summary>
    Indent,

    /// <summary>Cuts the file inside the line.</summary>
    Truncate,

    /// <summary>Inserts a line of another shipped scenario.</summary>
    Splice,
}

/// <summary>One edit of a scenario's lines; <see cref="Line"/> and <see cref="Position"/> are taken modulo what is there.</summary>
internal sealed record Mutation(MutationKind Kind, int Line, int Position, Payload Payload)
{
    public void Apply(List<string> lines)
    {
        if (lines.Count == 0)
        {
            lines.Add("");
        }

        var index = Line % lines.Count;
        var line = lines[index];
        var indentation = line[..(line.Length - line.TrimStart(' ').Length)];
        switch (Kind)
        {
            case MutationKind.Delete:
                lines.RemoveAt(index);
                break;
            case MutationKind.Duplicate:
                lines.Insert(index, line);
                break;
            case MutationKind.Move:
                lines.RemoveAt(index);
                lines.Insert(Position % (lines.Count + 1), line);
                break;
            case MutationKind.Value:
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                var dash = line.IndexOf("- ", StringComparison.Ordinal);
                var at = colon >= 0 ? colon + 2 : dash >= 0 ? dash + 2 : indentation.Length;
                lines[index] = line[..at] + Payload.Text;
                break;
            case MutationKind.Insert:
                var position = Position % (line.Length + 1);
                lines[index] = line[..position] + Payload.Text + line[position..];
                break;
            case MutationKind.Line:
            case MutationKind.Splice:
                lines.Insert(index, indentation + Payload.Text.TrimStart(' '));
                break;
            case MutationKind.Indent:
                lines[index] = Payload.Text + line.TrimStart(' ');
                break;
            case MutationKind.Truncate:
                lines[index] = line[..(Position % (line.Length + 1))];
                lines.RemoveRange(index + 1, lines.Count - index - 1);
                break;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind} line {Line} at {Position}: {Payload.Label}");
}

/// <summary>A shipped scenario with mutations applied in order.</summary>
internal sealed class FuzzCase
{
    public FuzzCase(string source, IReadOnlyList<string> lines, IReadOnlyList<Mutation> mutations)
    {
        Source = source;
        Mutations = mutations;
        var edited = lines.ToList();
        foreach (var mutation in mutations)
        {
            mutation.Apply(edited);
        }

        Text = string.Join('\n', edited);
    }

    public string Source { get; }

    public IReadOnlyList<Mutation> Mutations { get; }

    public string Text { get; }

    public override string ToString() => $"{Source} with [{string.Join("; ", Mutations)}]";
}

/// <summary>The text's lines as YAML counts them (CR LF, CR, LF, NEL, LS and PS end a line), by their length.</summary>
internal static class YamlLines
{
    public static List<int> Lengths(string text)
    {
        var lengths = new List<int>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029')
            {
                lengths.Add(i - start);
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                start = i + 1;
            }
        }

        lengths.Add(text.Length - start);
        return lengths;
    }
}

/// <summary>What every scenario the parser accepts must satisfy.</summary>
internal static class ScenarioRules
{
    /// <summary>Whether <paramref name="id"/> keeps the id rule (README, "Ids and names").</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= ScenarioFile.MaxIdLength
        && char.IsAsciiLetterOrDigit(id[0])
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Whether <paramref name="name"/> keeps the name rule: one line, not blank, at most 64 characters.</summary>
    public static bool IsValidName(string name) =>
        !string.IsNullOrWhiteSpace(name)
        && name.Length <= ScenarioFile.MaxNameLength
        && !name.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029');

    public static void AssertHolds(ScenarioDefinition scenario)
    {
        Assert.NotEmpty(scenario.Characters);
        Assert.NotEmpty(scenario.Scenes);
        Assert.Equal(scenario.Characters.Count, scenario.Characters.Select(c => c.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(scenario.Scenes.Count, scenario.Scenes.Select(s => s.Id).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.True(IsValidName(scenario.Name), $"scenario name {Payload.Escape(scenario.Name)}");
        var ids = scenario.Characters.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var character in scenario.Characters)
        {
            Assert.True(IsValidId(character.Id), $"character id {Payload.Escape(character.Id)}");
            Assert.True(IsValidName(character.Name), $"character name {Payload.Escape(character.Name)}");
            AssertText(character.Role);
            Assert.All(character.Goals, AssertText);
            Assert.All(character.PrivateKnowledge, AssertText);
        }

        Assert.All(scenario.WatchRoles ?? [], AssertText);
        foreach (var scene in scenario.Scenes)
        {
            Assert.True(IsValidId(scene.Id), $"scene id {Payload.Escape(scene.Id)}");
            AssertText(scene.Setting);
            Assert.All(scene.Narration, AssertText);
            Assert.All(scene.StopPhrases, AssertText);
            Assert.NotEmpty(scene.Present);
            Assert.Subset(ids, scene.Present.ToHashSet(StringComparer.Ordinal));
            Assert.InRange(scene.MaxTurns, 1, 10_000);
            Assert.All(scene.Interventions, i => Assert.InRange(i.Turn, 0, scene.MaxTurns - 1));
            Assert.All(scene.Interventions, i => AssertText(i.Text));
            Assert.All(scene.Interventions, i => Assert.True(IsValidName(i.Speaker), $"speaker {Payload.Escape(i.Speaker)}"));
        }
    }

    private static void AssertText(string text)
    {
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.InRange(text.Length, 1, ScenarioFile.MaxTextLength);
    }
}

/// <summary>A character id, a scene id and a character name to write into a minimal scenario.</summary>
internal sealed record IdsAndNameCase(string CharacterId, string SceneId, string Name)
{
    public override string ToString() => $"character id {Payload.Escape(CharacterId)}, scene id {Payload.Escape(SceneId)}, name {Payload.Escape(Name)}";
}
