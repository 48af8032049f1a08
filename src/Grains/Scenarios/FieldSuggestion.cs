namespace AgentTheater.Grains.Scenarios;

/// <summary>Finds the known word a misspelt one was meant to be (<c>temprature</c> → <c>temperature</c>).</summary>
internal static class FieldSuggestion
{
    /// <summary>The candidate closest to <paramref name="word"/>, or null when none is close enough to be a typo.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        var typed = Normalize(word);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            // The distance is at least the difference in length: a word too long to be a typo of this one is not measured
            // (a million-character key would take a million-row table for each candidate).
            var known = Normalize(candidate);
            if (Math.Abs(typed.Length - known.Length) > Math.Max(1, candidate.Length / 3))
            {
                continue;
            }

            var distance = Distance(typed, known);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        // About one edit in three characters still reads as the same word; more is a different word.
        return best is not null && bestDistance <= Math.Max(1, best.Length / 3) ? best : null;
    }

    // topP, top-p and TOP_P all mean top_p.
    private static string Normalize(string word) =>
        string.Concat(word.Where(char.IsLetterOrDigit)).ToLowerInvariant();

    /// <summary>Edit distance counting a swap of two neighbours as one edit (optimal string alignment).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
