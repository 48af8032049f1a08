using System.Globalization;
using System.Text;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Values from a scenario file as they appear in its error messages: at most <see cref="MaxLength"/> characters of
/// each (a file may hold a megabyte on one line) and control characters escaped (so that a message stays one line and
/// a terminal prints it as text).
/// </summary>
internal static class MessageText
{
    /// <summary>Characters of a value a message shows; the rest is counted.</summary>
    public const int MaxLength = 40;

    /// <summary>Items of a list a message names; the rest are counted.</summary>
    public const int MaxItems = 10;

    /// <summary><paramref name="value"/> in single quotes, shortened and escaped.</summary>
    public static string Quote(string value) => $"'{Plain(value)}'";

    /// <summary>A message YamlDotNet wrote, which may quote the file: shortened to a few lines' worth and escaped.</summary>
    public static string Yaml(string message) => Plain(message, 200);

    /// <summary><paramref name="value"/> shortened to <paramref name="maxLength"/> characters and escaped; unchanged when short and printable.</summary>
    public static string Plain(string value, int maxLength = MaxLength)
    {
        var text = new StringBuilder();
        var end = Math.Min(value.Length, maxLength);
        for (var i = 0; i < end; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                text.Append(c).Append(value[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return value.Length > end ? text.Append(CultureInfo.InvariantCulture, $"... ({value.Length:N0} characters)").ToString() : text.ToString();
    }

    /// <summary>The first <see cref="MaxItems"/> of <paramref name="values"/>, each shortened, joined with commas.</summary>
    public static string List(IReadOnlyCollection<string> values)
    {
        var shown = string.Join(", ", values.Take(MaxItems).Select(v => Plain(v)));
        return values.Count > MaxItems ? string.Create(CultureInfo.InvariantCulture, $"{shown} and {values.Count - MaxItems:N0} more") : shown;
    }
}
