namespace AgentTheater.Client.Benchmarks;

/// <summary>Nearest-rank percentiles of benchmark measurements.</summary>
internal static class Percentiles
{
    /// <summary>The value at <paramref name="share"/> (0 to 1) of <paramref name="values"/> in order; 0 when there are none.</summary>
    public static double Of(IReadOnlyCollection<double> values, double share)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(share * sorted.Count))];
    }
}
