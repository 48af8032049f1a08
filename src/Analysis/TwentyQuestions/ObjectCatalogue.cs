using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>A yes-or-no attribute of the twenty-questions catalogue and the ways the corpus asks about it.</summary>
/// <param name="Key">The attribute's key (<c>metal</c>, <c>kitchen</c>).</param>
/// <param name="Phrasings">The questions that ask it (<c>is it made of metal?</c>), as the corpus writes them.</param>
[SuppressMessage("Naming", "CA1711", Justification = "The catalogue's own word (ATTRIBUTES in catalogue.py) for a yes-or-no property of an object.")]
public sealed record CatalogueAttribute(string Key, IReadOnlyList<string> Phrasings);

/// <summary>
/// The twenty-questions catalogue the model was trained on: ordinary objects and the yes-or-no attributes true of each
/// (every other attribute is false). The source is <c>tools/model/catalogue.py</c>; <c>catalogue.py --json</c> writes
/// the embedded <c>twenty-questions-catalogue.json</c>.
/// </summary>
public sealed class ObjectCatalogue
{
    /// <summary>The name of the embedded catalogue in the Grains assembly.</summary>
    public const string ResourceName = "AgentTheater.Analysis.TwentyQuestions.twenty-questions-catalogue.json";

    private static readonly Lazy<ObjectCatalogue> Embedded = new(LoadEmbedded);

    private readonly Dictionary<string, HashSet<string>> _trueAttributes;
    private readonly HashSet<string> _attributeKeys;
    private readonly Dictionary<string, int> _positions;

    private ObjectCatalogue(IReadOnlyList<CatalogueAttribute> attributes, IReadOnlyList<string> objects, Dictionary<string, HashSet<string>> trueAttributes)
    {
        Attributes = attributes;
        Objects = objects;
        _trueAttributes = trueAttributes;
        _attributeKeys = new HashSet<string>(attributes.Select(a => a.Key), StringComparer.Ordinal);
        _positions = objects.Select((o, i) => (o, i)).ToDictionary(x => x.o, x => x.i, StringComparer.Ordinal);
    }

    /// <summary>The catalogue the shipped model was trained on (the embedded resource, read once).</summary>
    public static ObjectCatalogue Default => Embedded.Value;

    /// <summary>Every object, in the catalogue's order.</summary>
    public IReadOnlyList<string> Objects { get; }

    /// <summary>Every attribute with its phrasings, in the catalogue's order.</summary>
    public IReadOnlyList<CatalogueAttribute> Attributes { get; }

    /// <summary>Whether <paramref name="obj"/> is a catalogue object (exact name).</summary>
    public bool Contains(string obj) => _trueAttributes.ContainsKey(obj);

    /// <summary>Where <paramref name="obj"/> stands in <see cref="Objects"/> (the order of every per-object list); throws on a name the catalogue lacks.</summary>
    public int IndexOf(string obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return _positions.TryGetValue(obj, out var index) ? index : throw new ArgumentException($"'{obj}' is not a catalogue object.", nameof(obj));
    }

    /// <summary>Whether <paramref name="attribute"/> is true of <paramref name="obj"/>; throws on a name the catalogue lacks.</summary>
    public bool IsTrue(string obj, string attribute)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(attribute);
        if (!_trueAttributes.TryGetValue(obj, out var attributes))
        {
            throw new ArgumentException($"'{obj}' is not a catalogue object.", nameof(obj));
        }

        return _attributeKeys.Contains(attribute)
            ? attributes.Contains(attribute)
            : throw new ArgumentException($"'{attribute}' is not a catalogue attribute.", nameof(attribute));
    }

    /// <summary>The indefinite article the corpus writes before <paramref name="word"/>: "an" before a vowel, else "a".</summary>
    public static string Article(string word)
    {
        ArgumentException.ThrowIfNullOrEmpty(word);
        return "aeiouAEIOU".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";
    }

    /// <summary>
    /// The answerer's reveal of <paramref name="obj"/> as the corpus writes it, without the full stop (<c>It was an
    /// umbrella</c>): it is scored as a prefix, so every object ends at the same place.
    /// </summary>
    public string RevealText(string obj) =>
        Contains(obj) ? $"It was {Article(obj)} {obj}" : throw new ArgumentException($"'{obj}' is not a catalogue object.", nameof(obj));

    /// <summary>
    /// Reads a catalogue written by <c>catalogue.py --json</c>:
    /// <c>{"attributes": {key: [phrasings]}, "objects": {name: [true attribute keys]}}</c>.
    /// Throws <see cref="InvalidDataException"/> naming the field at fault.
    /// </summary>
    public static ObjectCatalogue Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"twenty-questions catalogue: not JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("", "must be a JSON object");
            }

            var attributes = new List<CatalogueAttribute>();
            var phrasingOwners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in Members(root, "attributes"))
            {
                var phrasings = NonEmptyStrings(value, $"attributes.{key}");
                for (var i = 0; i < phrasings.Count; i++)
                {
                    // The parser maps a question back to its attribute, so a phrasing must name one attribute only.
                    if (!phrasingOwners.TryAdd(phrasings[i], key))
                    {
                        throw Error($"attributes.{key}[{i}]", $"'{phrasings[i]}' is also a phrasing of '{phrasingOwners[phrasings[i]]}'");
                    }
                }

                attributes.Add(new CatalogueAttribute(key, phrasings));
            }

            var keys = attributes.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
            var objects = new List<string>();
            var trueAttributes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (name, value) in Members(root, "objects"))
            {
                if (value.ValueKind != JsonValueKind.Array)
                {
                    throw Error($"objects.{name}", $"must be an array of attribute keys, not {Kind(value)}");
                }

                var truths = new HashSet<string>(StringComparer.Ordinal);
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var field = $"objects.{name}[{i++}]";
                    var key = item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Error(field, $"must be a string, not {Kind(item)}");
                    if (!keys.Contains(key))
                    {
                        throw Error(field, $"'{key}' is not one of the attributes");
                    }

                    if (!truths.Add(key))
                    {
                        throw Error(field, $"'{key}' appears twice");
                    }
                }

                objects.Add(name);
                trueAttributes.Add(name, truths);
            }

            return new ObjectCatalogue(attributes, objects, trueAttributes);
        }
    }

    private static ObjectCatalogue LoadEmbedded()
    {
        using var stream = typeof(ObjectCatalogue).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The Grains assembly has no embedded resource '{ResourceName}'.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>The members of a required, non-empty object field; names must be non-empty and unique.</summary>
    private static List<(string Name, JsonElement Value)> Members(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var value))
        {
            throw Error(field, "missing");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(field, $"must be an object, not {Kind(value)}");
        }

        var members = new List<(string, JsonElement)>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in value.EnumerateObject())
        {
            if (string.IsNullOrWhiteSpace(member.Name))
            {
                throw Error(field, "has an empty name");
            }

            // Names are matched case-insensitively in transcripts, so two differing only in case would be ambiguous.
            if (!names.Add(member.Name))
            {
                throw Error($"{field}.{member.Name}", "appears twice");
            }

            members.Add((member.Name, member.Value));
        }

        return members.Count > 0 ? members : throw Error(field, "must not be empty");
    }

    private static List<string> NonEmptyStrings(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(field, $"must be an array of phrasings, not {Kind(value)}");
        }

        var strings = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            var itemField = $"{field}[{strings.Count}]";
            strings.Add(item.ValueKind != JsonValueKind.String ? throw Error(itemField, $"must be a string, not {Kind(item)}")
                : string.IsNullOrWhiteSpace(item.GetString()) ? throw Error(itemField, "must not be empty")
                : item.GetString()!);
        }

        return strings.Count > 0 ? strings : throw Error(field, "must have at least one phrasing");
    }

    private static InvalidDataException Error(string field, string message) =>
        new(field.Length == 0 ? $"twenty-questions catalogue: {message}" : $"twenty-questions catalogue: {field}: {message}");

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
