namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// Where a line names a character: the name as a whole word, any case (<c>Bo</c> in "Bo," and "bo?", not in
/// "about"). Used by every policy that reacts to being addressed, so they agree on who was named.
/// </summary>
internal static class NameMention
{
    /// <summary>Index of the first whole-word, case-insensitive occurrence of <paramref name="name"/> in <paramref name="text"/>; -1 when none.</summary>
    public static int IndexIn(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            return -1;
        }

        for (var at = text.IndexOf(name, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(name, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            var end = at + name.Length;
            if (!IsWordCharacter(text, at - 1) && !IsWordCharacter(text, end))
            {
                return at;
            }
        }

        return -1;
    }

    /// <summary>Whether <paramref name="text"/> names <paramref name="name"/> as a whole word.</summary>
    public static bool Names(string text, string name) => IndexIn(text, name) >= 0;

    private static bool IsWordCharacter(string text, int index) =>
        index >= 0 && index < text.Length && (char.IsLetterOrDigit(text[index]) || text[index] == '_');
}
