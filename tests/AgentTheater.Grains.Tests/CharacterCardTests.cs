using System.Buffers.Binary;
using System.Text;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Grains.Tests;

/// <summary>Character Card V2 and V3 files named by a character's <c>card</c>: import, export, overrides and positioned errors.</summary>
public sealed class CharacterCardTests : IDisposable
{
    private static readonly PersonaCard Marta = new(
        "innkeeper",
        "Marta",
        "the innkeeper of the Grey Goose",
        ["keep the peace", "keep the Crown's men out of her cellar"],
        ["the cellar holds smuggled brandy"],
        "warm and blunt");

    private readonly string folder = Directory.CreateTempSubdirectory("character-cards-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Load_ExportedV2Json_GivesTheSameCharacterBack()
    {
        Write("cards/innkeeper.json", CharacterCard.ToV2Json(Marta));

        var scenario = Load("- card: cards/innkeeper.json");

        AssertSameCharacter(Marta, Assert.Single(scenario.Characters));
    }

    [Fact]
    public void ToV2Json_ShippedTavernCharacters_ImportBackUnchanged()
    {
        var tavern = ScenarioFile.Load(Path.Combine(AppContext.BaseDirectory, "scenarios", "tavern.yaml"));

        foreach (var character in tavern.Characters)
        {
            var imported = CharacterCard.Parse(Encoding.UTF8.GetBytes(CharacterCard.ToV2Json(character)), $"{character.Id}.json");

            Assert.Equal(
                (character.Id, character.Name, character.Role, character.SpeakingStyle),
                (imported.Id, imported.Name, imported.Role, imported.SpeakingStyle));
            Assert.Equal(character.Goals, imported.Goals);
            Assert.Equal(character.PrivateKnowledge, imported.PrivateKnowledge);
        }
    }

    [Fact]
    public void Load_PngWithCharaChunk_ImportsTheSameCharacter()
    {
        File.WriteAllBytes(Path.Combine(folder, "marta.png"), Png(("chara", CharacterCard.ToV2Json(Marta))));

        var scenario = Load("- card: marta.png");

        AssertSameCharacter(Marta, Assert.Single(scenario.Characters));
    }

    [Fact]
    public void Load_PngWithCompressedITxtOrZTxtCardChunk_ImportsTheSameCharacter()
    {
        var base64 = Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(CharacterCard.ToV2Json(Marta))));
        byte[] iTxt = [.. "chara"u8, 0, 1, 0, .. "en"u8, 0, 0, .. Deflate(base64)];
        byte[] zTxt = [.. "chara"u8, 0, 0, .. Deflate(base64)];
        byte[] plainITxt = [.. "chara"u8, 0, 0, 0, 0, 0, .. base64];

        foreach (var (type, data) in new[] { ("iTXt", iTxt), ("zTXt", zTxt), ("iTXt", plainITxt) })
        {
            File.WriteAllBytes(Path.Combine(folder, "marta.png"), Png((type, data)));
            AssertSameCharacter(Marta, Assert.Single(Load("- card: marta.png").Characters));
        }
    }

    [Fact]
    public void Load_PngWhoseCardChunkFailsItsCrc_IsAnErrorNamingTheChunk()
    {
        var png = Png(("chara", CharacterCard.ToV2Json(Marta)));
        var text = png.AsSpan().IndexOf("tEXtchara"u8);
        png[text + 20] ^= 0x01;
        File.WriteAllBytes(Path.Combine(folder, "damaged.png"), png);

        var error = LoadError("- card: damaged.png");

        Assert.Equal("characters[0].card", error.Field);
        Assert.StartsWith("card 'damaged.png': its PNG chunk 'chara' (tEXt at byte ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("fails its CRC check (the file is damaged)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PngWithBadCompressedCardChunk_IsAnErrorNamingTheChunk()
    {
        File.WriteAllBytes(Path.Combine(folder, "bad.png"), Png(("zTXt", [.. "ccv3"u8, 0, 0, 0x78, 0x9C, 0xFF, 0xFF, 0xFF])));

        var error = LoadError("- card: bad.png");

        Assert.Equal("card 'bad.png': its PNG chunk 'ccv3' (zTXt) cannot be read (a bad header or compressed data)", error.Message);
    }

    private static byte[] Deflate(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(bytes);
        }

        return output.ToArray();
    }

    [Fact]
    public void Load_V3PngWithCcv3Chunk_PrefersItOverChara()
    {
        var v3 = V3Card("Marta", "the innkeeper", "warm", "a storm is coming");
        File.WriteAllBytes(Path.Combine(folder, "marta.png"), Png(("chara", V3Card("Old", "stale", "stale", "stale").Replace("chara_card_v3", "chara_card_v2", StringComparison.Ordinal)), ("ccv3", v3)));

        var character = Assert.Single(Load("- card: marta.png", "marta").Characters);

        AssertSameCharacter(new PersonaCard("marta", "Marta", "the innkeeper", [], ["a storm is coming"], "warm"), character);
    }

    [Fact]
    public void Load_V3Json_MapsDescriptionPersonalityAndScenarioAndSlugsTheName()
    {
        Write("sir.json", V3Card("Sir Gauvain d'Ébène", "a knight errant", "formal", "he owes the innkeeper money"));

        var character = Assert.Single(Load("- card: sir.json", "sir-gauvain-d-ebene").Characters);

        Assert.Equal("sir-gauvain-d-ebene", character.Id);
        Assert.Equal("Sir Gauvain d'Ébène", character.Name);
        Assert.Equal("a knight errant", character.Role);
        Assert.Equal("formal", character.SpeakingStyle);
        Assert.Equal(["he owes the innkeeper money"], character.PrivateKnowledge);
    }

    [Fact]
    public void Load_YamlFields_OverrideTheCard()
    {
        Write("marta.json", CharacterCard.ToV2Json(Marta));

        var character = Assert.Single(Load(
            """
            - card: marta.json
              id: host
              name: Martha
              role: the landlady
              goals: [sell ale]
              private_knowledge: [nothing at all]
              speaking_style: curt
            """, "host").Characters);

        AssertSameCharacter(new PersonaCard("host", "Martha", "the landlady", ["sell ale"], ["nothing at all"], "curt"), character);
    }

    [Fact]
    public void Load_ShippedMartaCard_ImportsTheInnkeeper()
    {
        var scenarios = Path.Combine(AppContext.BaseDirectory, "scenarios");

        var character = Assert.Single(ScenarioFile.Parse(Scenario("- card: cards/marta.json"), "card-test.yaml", scenarios).Characters);

        Assert.Equal(("innkeeper", "Marta"), (character.Id, character.Name));
        Assert.StartsWith("the innkeeper of the Grey Goose", character.Role, StringComparison.Ordinal);
        Assert.Equal(2, character.Goals.Count);
        Assert.Single(character.PrivateKnowledge);
    }

    [Fact]
    public void Load_MissingCard_IsAnErrorAtTheCardFieldNamingTheFile()
    {
        var error = LoadError("- card: cards/nobody.json");

        Assert.Equal((10, 11, "characters[0].card"), (error.Line, error.Column, error.Field));
        Assert.Equal("card 'cards/nobody.json' does not exist", error.Message);
    }

    [Fact]
    public void Load_MalformedJson_IsAnErrorNamingTheFileAndTheJsonLine()
    {
        Write("broken.json", "{\n  \"spec\": \"chara_card_v2\",\n  \"data\": {\"name\": \"Marta\",,}\n}");

        var error = LoadError("- card: broken.json");

        Assert.Equal((10, 11, "characters[0].card"), (error.Line, error.Column, error.Field));
        Assert.StartsWith("card 'broken.json' is not valid JSON (line 3,", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PngWithoutCardChunk_IsAnErrorNamingTheFile()
    {
        File.WriteAllBytes(Path.Combine(folder, "plain.png"), Png(("Comment", "just a picture")));

        var error = LoadError("- card: plain.png");

        Assert.Equal((10, 11, "characters[0].card"), (error.Line, error.Column, error.Field));
        Assert.Equal("card 'plain.png' is a PNG without a 'chara' or 'ccv3' text chunk (not a character card)", error.Message);
    }

    [Theory]
    [InlineData("{\"spec\": \"chara_card_v1\", \"data\": {\"name\": \"Marta\"}}", "has spec 'chara_card_v1'; expected \"chara_card_v2\" or \"chara_card_v3\"")]
    [InlineData("{\"name\": \"Marta\", \"description\": \"old\"}", "has no spec (a V1 card?); expected \"chara_card_v2\" or \"chara_card_v3\"")]
    public void Load_WrongSpec_IsAnErrorNamingTheFile(string json, string problem)
    {
        Write("old.json", json);

        var error = LoadError("- card: old.json");

        Assert.Equal((10, 11, "characters[0].card"), (error.Line, error.Column, error.Field));
        Assert.Equal($"card 'old.json' {problem}", error.Message);
    }

    [Fact]
    public void Load_DescriptionOverTheLimit_IsAnErrorNamingTheFileAndField()
    {
        Write("long.json", CharacterCard.ToV2Json(Marta with { Role = new string('r', ScenarioFile.MaxTextLength + 1) }));

        var error = LoadError("- card: long.json");

        Assert.Equal("characters[0].card", error.Field);
        Assert.Equal("card 'long.json': data.description is 4,001 characters long; at most 4,000 are allowed", error.Message);
    }

    [Fact]
    public void Load_CardWithoutDescriptionOrRole_IsAnErrorAtTheCard()
    {
        Write("blank.json", V3Card("Marta", "", "warm", ""));

        var error = LoadError("- card: blank.json", "marta");

        Assert.Equal("characters[0].card", error.Field);
        Assert.Equal("card 'blank.json' has no description; give the character a role", error.Message);
    }

    [Fact]
    public void Parse_CardWithoutAFolder_IsAnErrorNamingTheFile()
    {
        var exception = Assert.Throws<ScenarioValidationException>(() => ScenarioFile.Parse(Scenario("- card: marta.json"), "api.yaml"));

        var error = Assert.Single(exception.Errors);
        Assert.Equal(("api.yaml", 10, "characters[0].card"), (error.File, error.Line, error.Field));
        Assert.StartsWith("card 'marta.json' cannot be read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slug_NameWithAccentsAndPunctuation_KeepsTheIdRules()
    {
        Assert.Equal("the-old-sailor-2", CharacterCard.Slug("  The Old Sailor #2! "));
        Assert.Equal("zoe", CharacterCard.Slug("Zoë"));
        Assert.Null(CharacterCard.Slug("!!!"));
    }

    private static void AssertSameCharacter(PersonaCard expected, PersonaCard actual)
    {
        Assert.Equal((expected.Id, expected.Name, expected.Role, expected.SpeakingStyle, expected.PlayAs), (actual.Id, actual.Name, actual.Role, actual.SpeakingStyle, actual.PlayAs));
        Assert.Equal(expected.Goals, actual.Goals);
        Assert.Equal(expected.PrivateKnowledge, actual.PrivateKnowledge);
    }

    private ScenarioDefinition Load(string characters, string present = "innkeeper")
    {
        var path = Path.Combine(folder, "cards.yaml");
        File.WriteAllText(path, Scenario(characters, present));
        return ScenarioFile.Load(path);
    }

    private ScenarioError LoadError(string characters, string present = "innkeeper")
    {
        var exception = Assert.Throws<ScenarioValidationException>(() => Load(characters, present));
        var error = Assert.Single(exception.Errors);
        Assert.Equal(Path.Combine(folder, "cards.yaml"), error.File);
        return error;
    }

    private void Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A scenario whose characters start on line 10, indented by two, with one scene where <paramref name="present"/> plays.</summary>
    private static string Scenario(string characters, string present = "innkeeper") =>
        $"""
        name: cards
        scenes:
          - id: room
            setting: A room.
            present: [{present}]
        # padding
        # padding
        # padding
        characters:
        {Indent(characters)}
        """;

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(line => "  " + line));

    private static string V3Card(string name, string description, string personality, string scenario) =>
        $$"""
        {"spec": "chara_card_v3", "spec_version": "3.0", "data": {
          "name": "{{name}}", "description": "{{description}}", "personality": "{{personality}}", "scenario": "{{scenario}}",
          "first_mes": "Hello.", "mes_example": "", "creator_notes": "", "system_prompt": "", "post_history_instructions": "",
          "alternate_greetings": [], "tags": [], "creator": "", "character_version": "", "extensions": {},
          "group_only_greetings": [], "nickname": "Marti"}
        }
        """;

    /// <summary>A 1x1 grey PNG with a <c>tEXt</c> chunk per entry (the text base64-encoded unless it is a plain comment).</summary>
    private static byte[] Png(params (string Keyword, string Text)[] texts) => Png(texts.Select(t => ("tEXt", TextChunk(t.Keyword, t.Text))).ToArray());

    /// <summary>The data of a <c>tEXt</c> chunk: the keyword, a zero byte, the text (base64 for a card keyword).</summary>
    private static byte[] TextChunk(string keyword, string text) =>
        [.. Encoding.Latin1.GetBytes(keyword), 0, .. Encoding.Latin1.GetBytes(keyword is "chara" or "ccv3" ? Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) : text)];

    /// <summary>A 1x1 grey PNG with the chunks given (type and data) between its header and its image data.</summary>
    private static byte[] Png(params (string Type, byte[] Data)[] chunks)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        foreach (var (type, data) in chunks)
        {
            Chunk(png, type, data);
        }

        // zlib stream of one scanline: filter 0, one grey byte.
        Chunk(png, "IDAT", [0x78, 0x01, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
