namespace AgentTheater.Inference.Engine;

/// <summary>
/// Finds where a session's new prompt dropped a chunk of what its sequence caches: after their common prefix, the
/// prompt goes on with tokens the cache holds further on. That is how a bounded context looks from the pool: the
/// pinned card and setting stay, the oldest witnessed lines go, the rest stays as it was.
/// </summary>
public static class DroppedChunk
{
    /// <summary>Fewest cached tokens a shift must keep to be worth it; a shorter match is left to prefill.</summary>
    public const int MinimumKeptTokens = 16;

    /// <summary>
    /// The chunk of <paramref name="cached"/> right after its first <paramref name="prefix"/> tokens whose removal lets
    /// the most cached tokens continue <paramref name="tokens"/> after the same prefix: <c>cached[prefix + Dropped ..
    /// prefix + Dropped + Kept)</c> equals <c>tokens[prefix .. prefix + Kept)</c>. (0, 0) when no such chunk exists.
    /// </summary>
    public static (int Dropped, int Kept) Find(ReadOnlySpan<int> cached, ReadOnlySpan<int> tokens, int prefix)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefix);
        if (prefix >= cached.Length || prefix >= tokens.Length)
        {
            return (0, 0);
        }

        var next = tokens[prefix..];
        int bestDropped = 0, bestKept = 0;
        for (var dropped = 1; prefix + dropped < cached.Length; dropped++)
        {
            var rest = cached[(prefix + dropped)..];
            if (rest.Length <= bestKept)
            {
                break;
            }

            if (rest[0] != next[0])
            {
                continue;
            }

            var kept = rest.CommonPrefixLength(next);
            if (kept > bestKept)
            {
                (bestDropped, bestKept) = (dropped, kept);
            }
        }

        return (bestDropped, bestKept);
    }
}
