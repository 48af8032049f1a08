using YamlDotNet.Core;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Lines and columns of a scenario's text as YamlDotNet counts them: 1-based, a column per UTF-16 character, and CR LF,
/// CR, LF, NEL (U+0085), LS (U+2028) and PS (U+2029) each ending a line, as YAML 1.1 says.
/// </summary>
internal static class TextPosition
{
    /// <summary>Where the character at <paramref name="index"/> (or the end, at <c>text.Length</c>) is.</summary>
    public static Mark Of(string text, int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, text.Length);
        long line = 1;
        long column = 1;
        for (var i = 0; i < index; i++)
        {
            switch (text[i])
            {
                case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                    break;
                case '\n' or '\r' or '\u0085' or '\u2028' or '\u2029':
                    line++;
                    column = 1;
                    break;
                default:
                    column++;
                    break;
            }
        }

        return new Mark(index, line, column);
    }
}
