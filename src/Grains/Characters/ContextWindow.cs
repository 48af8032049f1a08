namespace AgentTheater.Grains.Characters;

/// <summary>
/// Which witnessed lines a prompt keeps when they do not all fit: the newest ones, cut in chunks. A cut falls only at
/// multiples of half the room, counted in tokens from the first line of the scene, so while lines are added the first
/// kept line stays put until another half of the room has filled; then about half the room is dropped at once (as
/// llama.cpp's server drops <c>n_discard</c> tokens after <c>n_keep</c>). The cut depends on nothing but the lines'
/// token counts and the room, so every caller that sees the same lines (the character, the attribution of its lines, a
/// fork) cuts at the same line, and the pool finds each prompt's kept lines in its cache.
/// </summary>
public static class ContextWindow
{
    /// <summary>
    /// The index of the first line to keep of lines taking <paramref name="lineTokens"/> tokens each, so that the kept
    /// ones take at most <paramref name="room"/> tokens: 0 when all fit; <c>lineTokens.Count</c> when not even the last
    /// one does.
    /// </summary>
    public static int FirstKept(IReadOnlyList<int> lineTokens, int room)
    {
        ArgumentNullException.ThrowIfNull(lineTokens);
        long total = 0;
        foreach (var tokens in lineTokens)
        {
            total += tokens;
        }

        if (total <= room)
        {
            return 0;
        }

        // Drop whole half-rooms: the smallest number of them that brings the rest within the room.
        var half = Math.Max(1L, room / 2L);
        var cut = (total - Math.Max(0, room) + half - 1) / half * half;
        long start = 0;
        for (var i = 0; i < lineTokens.Count; i++)
        {
            if (start >= cut)
            {
                return i;
            }

            start += lineTokens[i];
        }

        return lineTokens.Count;
    }
}
