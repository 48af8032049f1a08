using System.Globalization;
using System.Text.Json;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>What happened in a labelled scene, as the generator that wrote it knows.</summary>
public enum LabelKind
{
    /// <summary>The target was pushed into another role and complied: a takeover to detect.</summary>
    Comply,

    /// <summary>The target was pushed and held its role: any takeover is a false one.</summary>
    Resist,

    /// <summary>Nobody was pushed: any takeover is a false one.</summary>
    None,
}

/// <summary>The label of a scene.</summary>
/// <param name="Kind">Comply, resist or none.</param>
/// <param name="Target">Cast id of the character pushed (null for none).</param>
/// <param name="PushIndex">Transcript index of the push line: the true trigger (null for none).</param>
/// <param name="FirstReplyIndex">Transcript index of the target's first line after the push (null for none).</param>
/// <param name="Role">For comply, the role it was pushed into.</param>
public sealed record TakeoverLabel(LabelKind Kind, string? Target = null, int? PushIndex = null, int? FirstReplyIndex = null, string? Role = null);

/// <summary>One labelled scene: what attribution is given (the scene and its transcript) and what it should find.</summary>
/// <param name="Id">Record id (unique in the set).</param>
/// <param name="LineNumber">Line of the set file it came from.</param>
/// <param name="Scene">The scene as the scene grain would start it: setting, cast, watched roles.</param>
/// <param name="Transcript">Every line, indexed and with turns as a played scene numbers them.</param>
/// <param name="Label">The truth.</param>
public sealed record LabelledScene(string Id, int LineNumber, SceneStart Scene, IReadOnlyList<SceneLine> Transcript, TakeoverLabel Label);

/// <summary>
/// The labelled takeover set (<c>tests/labelled/takeovers.jsonl</c>, written by <c>tools/model/labelled_takeovers.py</c>):
/// one scene a line, with its cast as persona cards, its lines and its label. Every error names the file, the line and
/// the field.
/// </summary>
public static class LabelledSet
{
    /// <summary>Reads and checks every record of <paramref name="path"/>; throws <see cref="InvalidDataException"/> at the first bad one.</summary>
    public static IReadOnlyList<LabelledScene> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Labelled set '{path}' does not exist.", path);
        }

        var scenes = new List<LabelledScene>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var reader = new RecordReader(path, number);
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw reader.Error("", $"not JSON ({e.Message})");
            }

            using (document)
            {
                var scene = Parse(reader, document.RootElement);
                if (!ids.Add(scene.Id))
                {
                    throw reader.Error("id", $"'{scene.Id}' appears twice");
                }

                scenes.Add(scene);
            }
        }

        return scenes.Count > 0 ? scenes : throw new InvalidDataException($"{path}: no labelled scenes.");
    }

    private static LabelledScene Parse(RecordReader reader, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw reader.Error("", "each line must be a JSON object");
        }

        var id = reader.String(root, "id");
        var setting = reader.String(root, "setting");
        var watch = reader.Strings(root, "watch_roles", required: false);
        var cast = reader.Array(root, "cast").Select((c, i) => Card(reader, c, $"cast[{i}]")).ToList();
        if (cast.Count == 0)
        {
            throw reader.Error("cast", "needs at least one character");
        }

        var byId = new Dictionary<string, PersonaCard>(StringComparer.Ordinal);
        for (var i = 0; i < cast.Count; i++)
        {
            if (!byId.TryAdd(cast[i].Id, cast[i]))
            {
                throw reader.Error($"cast[{i}].id", $"'{cast[i].Id}' appears twice");
            }
        }

        var transcript = new List<SceneLine>();
        var turn = 0;
        foreach (var (element, i) in reader.Array(root, "lines").Select((l, i) => (l, i)))
        {
            var field = $"lines[{i}]";
            var kind = reader.String(element, "kind", field) switch
            {
                "character" => LineKind.Character,
                "narrator" => LineKind.Narrator,
                "intervention" => LineKind.Intervention,
                var other => throw reader.Error(field + ".kind", $"'{other}' is not character, narrator or intervention"),
            };
            var speaker = reader.String(element, "speaker", field);
            var text = reader.String(element, "text", field, allowEmpty: true);
            var to = reader.OptionalString(element, "to", field);
            if (to is not null && !byId.ContainsKey(to))
            {
                throw reader.Error(field + ".to", $"'{to}' is not a cast id");
            }

            if (kind == LineKind.Character)
            {
                if (!byId.TryGetValue(speaker, out var card))
                {
                    throw reader.Error(field + ".speaker", $"'{speaker}' is not a cast id");
                }

                transcript.Add(new SceneLine(i, turn++, kind, speaker, card.Name, text, to));
            }
            else
            {
                transcript.Add(new SceneLine(i, turn, kind, null, speaker, text, to));
            }
        }

        if (transcript.Count == 0)
        {
            throw reader.Error("lines", "needs at least one line");
        }

        var label = Label(reader, root, byId, transcript);
        var definition = new SceneDefinition(id, setting, [.. cast.Select(c => c.Id)], TurnPolicy.RoundRobin, Math.Max(1, turn), [], [], []);
        var start = new SceneStart("labelled", 0, definition, cast, new SamplingSettings(), "labelled", watch);
        return new LabelledScene(id, reader.Line, start, transcript, label);
    }

    private static PersonaCard Card(RecordReader reader, JsonElement element, string field) => element.ValueKind == JsonValueKind.Object
        ? new PersonaCard(
            reader.String(element, "id", field),
            reader.String(element, "name", field),
            reader.String(element, "role", field),
            reader.Strings(element, "goals", required: false, field),
            reader.Strings(element, "private_knowledge", required: false, field),
            reader.OptionalString(element, "speaking_style", field) ?? "")
        : throw reader.Error(field, "must be an object (a persona card)");

    private static TakeoverLabel Label(RecordReader reader, JsonElement root, Dictionary<string, PersonaCard> cast, List<SceneLine> transcript)
    {
        if (!root.TryGetProperty("label", out var label) || label.ValueKind != JsonValueKind.Object)
        {
            throw reader.Error("label", "missing (an object with kind, target, push_index, first_reply_index, role)");
        }

        var kind = reader.String(label, "kind", "label") switch
        {
            "comply" => LabelKind.Comply,
            "resist" => LabelKind.Resist,
            "none" => LabelKind.None,
            var other => throw reader.Error("label.kind", $"'{other}' is not comply, resist or none"),
        };
        if (kind == LabelKind.None)
        {
            return new TakeoverLabel(kind);
        }

        var target = reader.String(label, "target", "label");
        if (!cast.ContainsKey(target))
        {
            throw reader.Error("label.target", $"'{target}' is not a cast id");
        }

        var push = reader.Index(label, "push_index", "label", transcript.Count);
        if (transcript[push].SpeakerId == target)
        {
            throw reader.Error("label.push_index", $"line {push} is the target's own line, not a push");
        }

        var reply = reader.Index(label, "first_reply_index", "label", transcript.Count);
        var firstAfter = transcript.FirstOrDefault(l => l.Index > push && l.Kind == LineKind.Character && l.SpeakerId == target);
        if (firstAfter is null || firstAfter.Index != reply)
        {
            throw reader.Error("label.first_reply_index", $"{reply} is not the index of {target}'s first line after the push (line {push}): {firstAfter?.Index.ToString(CultureInfo.InvariantCulture) ?? "there is none"}");
        }

        var role = kind == LabelKind.Comply ? reader.String(label, "role", "label") : reader.OptionalString(label, "role", "label");
        return new TakeoverLabel(kind, target, push, reply, role);
    }

    /// <summary>Reads fields of one record; its errors say <c>file:line: field: problem</c>.</summary>
    private sealed class RecordReader(string path, int line)
    {
        public int Line { get; } = line;

        public InvalidDataException Error(string field, string message) =>
            new(field.Length == 0 ? $"{path}:{Line}: {message}" : $"{path}:{Line}: {field}: {message}");

        public string String(JsonElement parent, string name, string? within = null, bool allowEmpty = false)
        {
            var field = Name(within, name);
            if (!parent.TryGetProperty(name, out var value))
            {
                throw Error(field, "missing");
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                throw Error(field, $"must be a string, not {Kind(value)}");
            }

            var text = value.GetString()!;
            return allowEmpty || !string.IsNullOrWhiteSpace(text) ? text : throw Error(field, "must not be empty");
        }

        public string? OptionalString(JsonElement parent, string name, string? within = null) =>
            parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? String(parent, name, within, allowEmpty: true) : null;

        public string[] Strings(JsonElement parent, string name, bool required, string? within = null)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return required ? throw Error(Name(within, name), "missing") : [];
            }

            var items = Array(parent, name, within);
            return [.. items.Select((item, i) => item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw Error($"{Name(within, name)}[{i}]", $"must be a string, not {Kind(item)}"))];
        }

        public List<JsonElement> Array(JsonElement parent, string name, string? within = null)
        {
            if (!parent.TryGetProperty(name, out var value))
            {
                throw Error(Name(within, name), "missing");
            }

            return value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : throw Error(Name(within, name), $"must be an array, not {Kind(value)}");
        }

        public int Index(JsonElement parent, string name, string within, int count)
        {
            var field = Name(within, name);
            if (!parent.TryGetProperty(name, out var value))
            {
                throw Error(field, "missing");
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var index))
            {
                throw Error(field, $"must be a whole number, not {Kind(value)}");
            }

            return index >= 0 && index < count ? index : throw Error(field, $"{index} is not a line of the scene (0 to {count - 1})");
        }

        private static string Name(string? within, string name) => within is null ? name : $"{within}.{name}";

        private static string Kind(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Number => $"the number {value.GetRawText()}",
            JsonValueKind.String => $"the string \"{value.GetString()}\"",
            _ => value.ValueKind.ToString().ToLowerInvariant(),
        };
    }
}
