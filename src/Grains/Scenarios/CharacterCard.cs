using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Character Card V2 and V3 files (<c>chara_card_v2</c>, <c>chara_card_v3</c>): JSON, or a PNG whose <c>tEXt</c> chunk
/// <c>ccv3</c> (V3) or <c>chara</c> (V2) holds the JSON in base64. A card gives a character its name (<c>name</c>), role
/// (<c>description</c>), speaking style (<c>personality</c>) and private knowledge (<c>scenario</c>); goals, private
/// knowledge and the id this project exports live under <c>extensions.agent_theater</c>. Greetings, example dialogue,
/// system prompts, notes and tags are not read.
/// </summary>
public static class CharacterCard
{
    /// <summary>Largest card file read (a PNG card carries its picture too).</summary>
    public const int MaxFileBytes = 20 << 20;

    /// <summary>The key under <c>data.extensions</c> that holds this project's fields.</summary>
    public const string ExtensionKey = "agent_theater";

    /// <summary>Most bytes a compressed card chunk may inflate to (as a card file's own limit).</summary>
    private const int MaxInflatedBytes = MaxFileBytes;

    /// <summary>CRC-32 of each byte value, for <see cref="Crc32"/>.</summary>
    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    private const string SpecV2 = "chara_card_v2";
    private const string SpecV3 = "chara_card_v3";
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    // Cards are read by people too: quotes and accents stay as they are (the text is never embedded in HTML here).
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads the card at <paramref name="path"/>, which errors name as <paramref name="name"/>.</summary>
    /// <exception cref="CharacterCardException">The file is missing, unreadable, or not a V2 or V3 card.</exception>
    public static ImportedCard Load(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(name);
        if (!File.Exists(path))
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)} does not exist");
        }

        byte[] bytes;
        try
        {
            if (new FileInfo(path).Length > MaxFileBytes)
            {
                throw new CharacterCardException(string.Create(CultureInfo.InvariantCulture, $"card {MessageText.Quote(name)} is larger than {MaxFileBytes:N0} bytes"));
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)} cannot be read: {e.Message}");
        }

        return bytes.AsSpan().StartsWith(PngSignature) ? Parse(JsonFromPng(bytes, name), name) : Parse(bytes, name);
    }

    /// <summary>Reads a card's JSON (UTF-8); <paramref name="name"/> names the card in errors.</summary>
    /// <exception cref="CharacterCardException">Not valid JSON, or not a V2 or V3 card.</exception>
    public static ImportedCard Parse(ReadOnlySpan<byte> json, string name)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var column = (e.BytePositionInLine ?? 0) + 1;
            throw new CharacterCardException($"card {MessageText.Quote(name)} is not valid JSON (line {line}, byte {column}): {JsonProblem(e.Message)}");
        }

        if (root is not JsonObject top)
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)} is not a JSON object");
        }

        var spec = top["spec"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        if (spec is not (SpecV2 or SpecV3))
        {
            var got = spec is null ? "no spec (a V1 card?)" : $"spec {MessageText.Quote(spec)}";
            throw new CharacterCardException($"card {MessageText.Quote(name)} has {got}; expected \"{SpecV2}\" or \"{SpecV3}\"");
        }

        if (top["data"] is not JsonObject data)
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)} has no \"data\" object");
        }

        var fields = new CardFields(data, name);
        var cardName = fields.Name();
        var extension = data["extensions"] is JsonObject extensions && extensions[ExtensionKey] is JsonObject ours ? new CardFields(ours, name, $"extensions.{ExtensionKey}.") : null;
        var scenario = fields.Text("scenario");
        return new ImportedCard(
            cardName,
            fields.Text("description"),
            fields.Text("personality"),
            extension?.Texts("goals") ?? [],
            extension?.Texts("private_knowledge") ?? (scenario.Length > 0 ? [scenario] : []),
            extension?.Id());
    }

    /// <summary>
    /// <paramref name="character"/> as a V2 card's JSON: <c>description</c> its role, <c>personality</c> its speaking style,
    /// and its id, goals and private knowledge under <c>extensions.agent_theater</c>, so that importing gives it back.
    /// </summary>
    public static string ToV2Json(PersonaCard character)
    {
        ArgumentNullException.ThrowIfNull(character);
        var card = new JsonObject
        {
            ["spec"] = SpecV2,
            ["spec_version"] = "2.0",
            ["data"] = new JsonObject
            {
                ["name"] = character.Name,
                ["description"] = character.Role,
                ["personality"] = character.SpeakingStyle,
                ["scenario"] = "",
                ["first_mes"] = "",
                ["mes_example"] = "",
                ["creator_notes"] = "Exported by agent-theater.",
                ["system_prompt"] = "",
                ["post_history_instructions"] = "",
                ["alternate_greetings"] = new JsonArray(),
                ["tags"] = new JsonArray(),
                ["creator"] = "",
                ["character_version"] = "",
                ["extensions"] = new JsonObject
                {
                    [ExtensionKey] = new JsonObject
                    {
                        ["id"] = character.Id,
                        ["goals"] = new JsonArray([.. character.Goals.Select(g => (JsonNode)g)]),
                        ["private_knowledge"] = new JsonArray([.. character.PrivateKnowledge.Select(k => (JsonNode)k)]),
                    },
                },
            },
        };
        return card.ToJsonString(Indented);
    }

    /// <summary>
    /// A character id made from <paramref name="name"/>: lower-case ASCII letters and digits, other runs as one <c>-</c>,
    /// accents dropped; null when nothing is left.
    /// </summary>
    public static string? Slug(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var slug = new StringBuilder();
        foreach (var c in name.Normalize(NormalizationForm.FormD))
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                slug.Append(char.ToLowerInvariant(c));
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark && slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }

        var text = slug.ToString().TrimEnd('-');
        text = text.Length > ScenarioFile.MaxIdLength ? text[..ScenarioFile.MaxIdLength].TrimEnd('-') : text;
        return text.Length == 0 ? null : text;
    }

    /// <summary>System.Text.Json's message without its own 0-based "Path: $ | LineNumber: 1 | BytePositionInLine: 0." tail.</summary>
    private static string JsonProblem(string message)
    {
        var tail = message.IndexOf(" Path: ", StringComparison.Ordinal) is var path and >= 0 ? path : message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        return tail > 0 ? message[..tail].TrimEnd() : message;
    }

    /// <summary>
    /// The text of a PNG text chunk after its keyword: <c>tEXt</c> Latin-1; <c>zTXt</c> a compression method (0: zlib)
    /// and the compressed Latin-1 text; <c>iTXt</c> a compression flag and method, a language tag and a translated
    /// keyword (each ending in a zero byte), then UTF-8 text, zlib-compressed when the flag is 1.
    /// </summary>
    private static string ChunkText(string type, ReadOnlySpan<byte> rest, string name, string keyword)
    {
        try
        {
            switch (type)
            {
                case "zTXt":
                    return rest.Length < 1 || rest[0] != 0 ? throw Damaged() : Encoding.Latin1.GetString(Inflate(rest[1..]));
                case "iTXt":
                    if (rest.Length < 2 || rest[1] != 0)
                    {
                        throw Damaged();
                    }

                    var compressed = rest[0] == 1;
                    var afterFlags = rest[2..];
                    var language = afterFlags.IndexOf((byte)0);
                    var translated = language < 0 ? -1 : afterFlags[(language + 1)..].IndexOf((byte)0);
                    if (translated < 0)
                    {
                        throw Damaged();
                    }

                    var body = afterFlags[(language + 1 + translated + 1)..];
                    return Encoding.UTF8.GetString(compressed ? Inflate(body) : body);
                default:
                    return Encoding.Latin1.GetString(rest);
            }
        }
        catch (InvalidDataException)
        {
            throw Damaged();
        }

        CharacterCardException Damaged() =>
            new($"card {MessageText.Quote(name)}: its PNG chunk '{keyword}' ({type}) cannot be read (a bad header or compressed data)");
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        using var input = new MemoryStream(compressed.ToArray());
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();

        // A card is text of at most a few hundred kilobytes: stop a zip bomb at the card file's own limit.
        var buffer = new byte[81920];
        int read;
        while ((read = zlib.Read(buffer)) > 0)
        {
            if (output.Length + read > MaxInflatedBytes)
            {
                throw new InvalidDataException("too large");
            }

            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    /// <summary>The PNG (and zlib) CRC-32 of <paramref name="bytes"/>: polynomial 0xEDB88320, reflected.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>
    /// The JSON text in a PNG's <c>ccv3</c> chunk, else its <c>chara</c> chunk (base64, in a <c>tEXt</c>, <c>zTXt</c> or
    /// <c>iTXt</c> chunk, the latter two compressed or not). A card chunk whose CRC does not match is an error (the file
    /// is damaged); other chunks are not checked.
    /// </summary>
    private static byte[] JsonFromPng(byte[] png, string name)
    {
        string? chara = null;
        string? ccv3 = null;
        var at = PngSignature.Length;
        while (at < png.Length)
        {
            if (png.Length - at < 12)
            {
                throw new CharacterCardException($"card {MessageText.Quote(name)} is a truncated PNG (a chunk header at byte {at} is cut off)");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at, 4));
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            if (length > (uint)(png.Length - at - 12))
            {
                throw new CharacterCardException($"card {MessageText.Quote(name)} is a truncated PNG (chunk '{type}' at byte {at} runs past the end)");
            }

            var data = png.AsSpan(at + 8, (int)length);
            if (type is "tEXt" or "zTXt" or "iTXt" && data.IndexOf((byte)0) is var zero and > 0 && Encoding.Latin1.GetString(data[..zero]) is "ccv3" or "chara")
            {
                var keyword = Encoding.Latin1.GetString(data[..zero]);
                if (Crc32(png.AsSpan(at + 4, (int)length + 4)) != BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + (int)length, 4)))
                {
                    throw new CharacterCardException($"card {MessageText.Quote(name)}: its PNG chunk '{keyword}' ({type} at byte {at}) fails its CRC check (the file is damaged)");
                }

                var text = ChunkText(type, data[(zero + 1)..], name, keyword);
                if (keyword == "ccv3")
                {
                    ccv3 = text;
                }
                else
                {
                    chara = text;
                }
            }

            at += 12 + (int)length;
            if (type == "IEND")
            {
                break;
            }
        }

        var (found, keywordFound) = ccv3 is not null ? (ccv3, "ccv3") : (chara, "chara");
        if (found is null)
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)} is a PNG without a 'chara' or 'ccv3' text chunk (not a character card)");
        }

        try
        {
            return Convert.FromBase64String(found.Trim());
        }
        catch (FormatException)
        {
            throw new CharacterCardException($"card {MessageText.Quote(name)}: its PNG chunk '{keywordFound}' is not base64");
        }
    }

    /// <summary>Typed reads of a card's <c>data</c> (or our extension), each problem an exception naming the card and field.</summary>
    private sealed class CardFields(JsonObject data, string card, string prefix = "")
    {
        public string Name()
        {
            var name = Text("name");
            if (name.Length == 0)
            {
                throw Problem("name", "is missing or empty");
            }

            if (name.Length > ScenarioFile.MaxNameLength)
            {
                throw Problem("name", string.Create(CultureInfo.InvariantCulture, $"is {name.Length:N0} characters long; a name may have at most {ScenarioFile.MaxNameLength}"));
            }

            if (name.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator))
            {
                throw Problem("name", "must be one line without control characters");
            }

            return name;
        }

        public string? Id()
        {
            var id = Text("id");
            if (id.Length == 0)
            {
                return null;
            }

            return YamlFieldReader.IdProblem(id) is { } problem ? throw Problem("id", $"{MessageText.Quote(id)} is not a valid id: it {problem}") : id;
        }

        /// <summary>A text field, trimmed; empty when absent or null.</summary>
        public string Text(string key) => data[key] switch
        {
            null => "",
            JsonValue value when value.TryGetValue<string>(out var text) => Checked(key, text.Trim()),
            _ => throw Problem(key, "must be a string"),
        };

        /// <summary>A list of texts, blanks skipped; null when absent.</summary>
        public IReadOnlyList<string>? Texts(string key) => data[key] switch
        {
            null => null,
            JsonArray items => [.. items.Select((item, i) => item is JsonValue value && value.TryGetValue<string>(out var text)
                ? Checked($"{key}[{i}]", text.Trim())
                : throw Problem($"{key}[{i}]", "must be a string")).Where(t => t.Length > 0)],
            _ => throw Problem(key, "must be a list of strings"),
        };

        private string Checked(string key, string text) => text.Length <= ScenarioFile.MaxTextLength
            ? text
            : throw Problem(key, string.Create(CultureInfo.InvariantCulture, $"is {text.Length:N0} characters long; at most {ScenarioFile.MaxTextLength:N0} are allowed"));

        private CharacterCardException Problem(string key, string message) =>
            new($"card {MessageText.Quote(card)}: data.{prefix}{key} {message}");
    }
}

/// <summary>What a character card gives a character; the scenario's own fields override each.</summary>
/// <param name="Name">The card's <c>name</c>.</param>
/// <param name="Role">The card's <c>description</c>; empty when it has none.</param>
/// <param name="SpeakingStyle">The card's <c>personality</c>; empty when it has none.</param>
/// <param name="Goals">The goals under <c>extensions.agent_theater</c>.</param>
/// <param name="PrivateKnowledge">The private knowledge under <c>extensions.agent_theater</c>, else the card's <c>scenario</c>.</param>
/// <param name="Id">The id under <c>extensions.agent_theater</c>, or null.</param>
public sealed record ImportedCard(
    string Name, string Role, string SpeakingStyle, IReadOnlyList<string> Goals, IReadOnlyList<string> PrivateKnowledge, string? Id);

/// <summary>A character card that cannot be imported; the message names the card file.</summary>
public sealed class CharacterCardException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CharacterCardException()
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public CharacterCardException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public CharacterCardException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
