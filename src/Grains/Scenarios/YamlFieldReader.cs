using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Reads typed fields out of YAML nodes and records a positioned <see cref="ScenarioError"/> for every
/// problem instead of stopping at the first, so that one run of the validator shows all of them.
/// Every read returns a usable fallback after an error; the caller throws once at the end.
/// </summary>
internal sealed class YamlFieldReader(string file, string text)
{
    private readonly List<ScenarioError> errors = [];

    /// <summary>Errors so far, in file order.</summary>
    public IReadOnlyList<ScenarioError> Errors =>
        [.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)];

    public void Error(Mark at, string field, string message)
    {
        // YamlDotNet puts the end of a text without a final line break on a line after it; the error is at the end.
        var position = at.Index >= text.Length ? TextPosition.Of(text, text.Length) : at;
        errors.Add(new ScenarioError(file, checked((int)position.Line), checked((int)position.Column), field, message));
    }

    public void Error(YamlNode at, string field, string message) => Error(at.Start, field, message);

    /// <summary>
    /// The mapping in <paramref name="node"/>, with every key checked against <paramref name="known"/>;
    /// null (and an error) when the node is not a mapping.
    /// </summary>
    public YamlFields? Mapping(YamlNode node, string path, IReadOnlyList<string> known)
    {
        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a mapping (key: value lines), got {Describe(node)}");
            return null;
        }

        var fields = new YamlFields(mapping, path);
        foreach (var key in mapping.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                Error(key, path, $"field names must be plain words, got {Describe(key)}");
            }
            else if (!known.Contains(name, StringComparer.Ordinal))
            {
                var closest = FieldSuggestion.Closest(name, known);
                var hint = closest is null ? $"known fields: {string.Join(", ", known)}" : $"did you mean '{closest}'?";
                Error(key, fields.Path(MessageText.Plain(name)), $"unknown field {MessageText.Quote(name)} ({hint})");
            }
        }

        return fields;
    }

    /// <summary>
    /// The value <paramref name="key"/> names among <paramref name="choices"/>; <paramref name="absent"/> when the field
    /// is not given; null, and an error naming the valid names (and the closest one), when it names none of them.
    /// </summary>
    public T? Choice<T>(YamlFields map, string key, IReadOnlyList<(string Name, T Value)> choices, T absent, string what, string plural)
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(choices);
        if (OptionalString(map, key) is not { } text)
        {
            return absent;
        }

        foreach (var (name, value) in choices)
        {
            if (name == text)
            {
                return value;
            }
        }

        var names = choices.Select(c => c.Name).ToArray();
        var closest = FieldSuggestion.Closest(text, names);
        var hint = closest is null ? "" : $"did you mean '{closest}'? ";
        Error(map.Value(key) ?? map.Node, map.Path(key), $"unknown {what} {MessageText.Quote(text)} ({hint}{plural}: {string.Join(", ", names)})");
        return null;
    }

    /// <summary>
    /// Records "required field is missing" unless <paramref name="key"/> has a value; true when it has.
    /// </summary>
    public bool Required(YamlFields map, string key)
    {
        if (map.Value(key) is not null)
        {
            return true;
        }

        Error(map.Node, map.Path(key), "required field is missing");
        return false;
    }

    /// <summary>
    /// The items of a list field; null when absent or not a list. With <paramref name="whenEmpty"/> the list
    /// is required and that message is the error for an empty one.
    /// </summary>
    public IReadOnlyList<YamlNode>? Sequence(YamlFields map, string key, string? whenEmpty = null)
    {
        if (whenEmpty is not null && !Required(map, key))
        {
            return null;
        }

        switch (map.Value(key))
        {
            case null:
                return null;
            case YamlSequenceNode sequence:
                if (whenEmpty is not null && sequence.Children.Count == 0)
                {
                    Error(sequence, map.Path(key), whenEmpty);
                }

                return [.. sequence.Children];
            case var other:
                Error(other, map.Path(key), $"expected a list, got {Describe(other)}");
                return null;
        }
    }

    /// <summary>A required text field; empty (and an error) when missing, blank or not text.</summary>
    public string RequiredString(YamlFields map, string key) =>
        Required(map, key) ? OptionalString(map, key) ?? "" : "";

    /// <summary>An optional text field, trimmed, of at most <see cref="ScenarioFile.MaxTextLength"/> characters; null when absent or invalid.</summary>
    public string? OptionalString(YamlFields map, string key) =>
        map.Value(key) is { } node ? Text(node, map.Path(key)) : null;

    /// <summary>A required id (see <see cref="OptionalId"/>); empty (and an error) when missing or blank.</summary>
    public string RequiredId(YamlFields map, string key) =>
        Required(map, key) ? OptionalId(map, key) ?? "" : "";

    /// <summary>
    /// An optional id: ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>, starting with a letter or digit, at most
    /// <see cref="ScenarioFile.MaxIdLength"/> characters. Ids are parts of grain keys (<c>{run}/{scene}/{replica}</c>,
    /// <c>{scene key}/{character}</c>), of branch names (<c>game-0~0.1</c>), file names and URLs. An id that breaks the
    /// rule is reported and still returned, so that what refers to it adds no errors of its own.
    /// </summary>
    public string? OptionalId(YamlFields map, string key)
    {
        if (map.Value(key) is not { } node || Text(node, map.Path(key), int.MaxValue) is not { } id)
        {
            return null;
        }

        if (IdProblem(id) is { } problem)
        {
            Error(node, map.Path(key), $"{MessageText.Quote(id)} is not a valid id: it {problem}; an id is ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most {ScenarioFile.MaxIdLength} characters");
        }

        return id;
    }

    /// <summary>A required name (see <see cref="OptionalName"/>); empty (and an error) when missing or blank.</summary>
    public string RequiredName(YamlFields map, string key) =>
        Required(map, key) ? OptionalName(map, key) ?? "" : "";

    /// <summary>
    /// An optional name, trimmed: one line of at most <see cref="ScenarioFile.MaxNameLength"/> characters without control
    /// characters (a name starts lines of transcripts and prompts); null (and an error) when it is not.
    /// </summary>
    public string? OptionalName(YamlFields map, string key)
    {
        if (map.Value(key) is not { } node || Text(node, map.Path(key), int.MaxValue) is not { } name)
        {
            return null;
        }

        if (name.Length > ScenarioFile.MaxNameLength)
        {
            Error(node, map.Path(key), string.Create(CultureInfo.InvariantCulture, $"is {name.Length:N0} characters long; a name may have at most {ScenarioFile.MaxNameLength}"));
            return null;
        }

        foreach (var c in name)
        {
            if (char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                Error(node, map.Path(key), $"must be one line without control characters; it contains {Describe(c)}");
                return null;
            }
        }

        return name;
    }

    /// <summary>
    /// A field that is either one text or a list of texts, each with its node and field path for later errors.
    /// With <paramref name="whenEmpty"/> at least one text is required and that message is the error for none.
    /// </summary>
    public IReadOnlyList<TextItem> StringItems(YamlFields map, string key, string? whenEmpty = null)
    {
        if (whenEmpty is not null && !Required(map, key))
        {
            return [];
        }

        var field = map.Path(key);
        switch (map.Value(key))
        {
            case null:
                return [];
            case YamlScalarNode scalar:
                return Text(scalar, field) is { } text ? [new TextItem(text, scalar, field)] : [];
            case YamlSequenceNode sequence:
                if (whenEmpty is not null && sequence.Children.Count == 0)
                {
                    Error(sequence, field, whenEmpty);
                }

                var items = new List<TextItem>(sequence.Children.Count);
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    var item = sequence.Children[i];
                    var itemField = $"{field}[{i}]";
                    if (Text(item, itemField) is { } value)
                    {
                        items.Add(new TextItem(value, item, itemField));
                    }
                }

                return items;
            case var other:
                Error(other, field, $"expected a text or a list of texts, got {Describe(other)}");
                return [];
        }
    }

    /// <summary>An optional integer in [<paramref name="min"/>, <paramref name="max"/>]; null when absent or invalid.</summary>
    public int? Integer(YamlFields map, string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = map.Value(key);
        if (node is null || Scalar(node, map.Path(key), "an integer") is not { } text)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(node, map.Path(key), $"expected an integer, got {MessageText.Quote(text)}");
            return null;
        }

        if (value < min || value > max)
        {
            var range = max == int.MaxValue ? $"at least {min}" : $"from {min} to {max}";
            Error(node, map.Path(key), $"must be {range}, got {value}");
            return null;
        }

        return value;
    }

    /// <summary>An optional 64-bit integer; null when absent or invalid.</summary>
    public long? Long(YamlFields map, string key)
    {
        var node = map.Value(key);
        if (node is null || Scalar(node, map.Path(key), "an integer") is not { } text)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(node, map.Path(key), $"expected an integer, got {MessageText.Quote(text)}");
            return null;
        }

        return value;
    }

    /// <summary>
    /// An optional number that <paramref name="valid"/> accepts (<paramref name="range"/> says which, in words);
    /// null when absent or invalid.
    /// </summary>
    public float? Number(YamlFields map, string key, Func<float, bool> valid, string range)
    {
        var node = map.Value(key);
        if (node is null || Scalar(node, map.Path(key), "a number") is not { } text)
        {
            return null;
        }

        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
        {
            Error(node, map.Path(key), $"expected a number, got {MessageText.Quote(text)}");
            return null;
        }

        if (!valid(value))
        {
            Error(node, map.Path(key), $"must be {range}, got {value.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        return value;
    }

    /// <summary>Non-blank text of at most <paramref name="maxLength"/> characters, trimmed; null (and an error) otherwise.</summary>
    private string? Text(YamlNode node, string field, int maxLength = ScenarioFile.MaxTextLength)
    {
        if (Scalar(node, field, "a text") is not { } text)
        {
            return null;
        }

        text = text.Trim();
        if (text.Length == 0)
        {
            Error(node, field, "must not be empty");
            return null;
        }

        if (text.Length > maxLength)
        {
            Error(node, field, string.Create(CultureInfo.InvariantCulture, $"is {text.Length:N0} characters long; at most {maxLength:N0} are allowed"));
            return null;
        }

        return text;
    }

    private string? Scalar(YamlNode node, string field, string expected)
    {
        if (node is YamlScalarNode scalar)
        {
            return scalar.Value ?? "";
        }

        Error(node, field, $"expected {expected}, got {Describe(node)}");
        return null;
    }

    /// <summary>What breaks the id rule in <paramref name="id"/> (see <see cref="OptionalId"/>), or null.</summary>
    public static string? IdProblem(string id)
    {
        if (id.Length > ScenarioFile.MaxIdLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"is {id.Length:N0} characters long");
        }

        if (!char.IsAsciiLetterOrDigit(id[0]))
        {
            return $"starts with {Describe(id[0])}";
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return c switch
                {
                    '/' => "contains '/', which separates the parts of grain keys",
                    '~' => "contains '~', which starts a branch's name",
                    _ => $"contains {Describe(c)}",
                };
            }
        }

        return null;
    }

    /// <summary>A character as a message names it: visible ones quoted, the rest by code point.</summary>
    private static string Describe(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        _ when char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format =>
            string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}"),
        _ => $"'{c}'",
    };

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        YamlScalarNode scalar => MessageText.Quote(scalar.Value ?? ""),
        _ => "something else",
    };
}

/// <summary>One text of a text-or-list field, with where it was written.</summary>
internal sealed record TextItem(string Value, YamlNode Node, string Field);

/// <summary>A YAML mapping at a field path; a key whose value is empty or <c>null</c> counts as absent.</summary>
internal sealed class YamlFields(YamlMappingNode node, string path)
{
    private static readonly HashSet<string> NullWords = ["", "~", "null", "Null", "NULL"];

    public YamlMappingNode Node { get; } = node;

    /// <summary>The path of <paramref name="key"/> below this mapping, e.g. <c>scenes[0].present</c>.</summary>
    public string Path(string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>The value of <paramref name="key"/>, or null when absent or empty.</summary>
    public YamlNode? Value(string key)
    {
        if (!Node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return null;
        }

        var empty = value is YamlScalarNode { Style: ScalarStyle.Plain, Value: var text } && NullWords.Contains(text ?? "");
        return empty ? null : value;
    }
}
