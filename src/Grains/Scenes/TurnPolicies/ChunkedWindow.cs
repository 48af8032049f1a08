namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// A window over the most recent items of a growing list that moves in chunks: its start only ever advances by whole
/// steps. A prompt built from it keeps one prefix for <c>step</c> items at a time, so the pool reuses the session's
/// cached tokens (and shifts them when a chunk is dropped) instead of prefilling everything again each time one item
/// is added, as a window sliding by one would.
/// </summary>
internal static class ChunkedWindow
{
    /// <summary>
    /// The first of <paramref name="count"/> items in the window: 0 while they fit in <paramref name="maxItems"/>, then the
    /// smallest multiple of <paramref name="step"/> that leaves at most <paramref name="maxItems"/> (so between
    /// <paramref name="maxItems"/> less <paramref name="step"/> plus one and <paramref name="maxItems"/> items are kept).
    /// </summary>
    public static int Start(int count, int maxItems, int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, step);
        var excess = count - maxItems;
        return excess <= 0 ? 0 : (excess + step - 1) / step * step;
    }
}
