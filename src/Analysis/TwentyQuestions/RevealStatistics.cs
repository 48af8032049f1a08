namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>Observed and expected counts that went into one bin of a chi-square test.</summary>
/// <param name="Indices">The original bins merged into this one, ascending (one index when nothing was merged).</param>
/// <param name="Observed">Their observed count.</param>
/// <param name="Expected">Their expected count.</param>
public sealed record ChiSquareBin(IReadOnlyList<int> Indices, double Observed, double Expected);

/// <summary>Pearson's chi-square goodness-of-fit test.</summary>
/// <param name="Statistic">Sum over the bins of (observed - expected)^2 / expected.</param>
/// <param name="DegreesOfFreedom">Bins less one.</param>
/// <param name="PValue">The chance of a statistic at least this large if the expected counts are right; 1 when fewer than two bins remain (nothing to test).</param>
/// <param name="Bins">The bins tested, after merging those with too small an expected count.</param>
public sealed record ChiSquareResult(double Statistic, int DegreesOfFreedom, double PValue, IReadOnlyList<ChiSquareBin> Bins);

/// <summary>
/// The statistics of the twenty-questions reveal: how spread the revealed object is (entropy), and whether the objects
/// sampled as the reveal follow the probabilities the model gives each object when scored (chi-square, total variation).
/// </summary>
public static class RevealStatistics
{
    private const double Epsilon = 1e-15;
    private const double Tiny = 1e-300;
    private const int MaximumIterations = 10_000;

    /// <summary>Shannon entropy in bits of a distribution (normalized first, so it need not sum to one exactly).</summary>
    public static double EntropyBits(IReadOnlyList<double> probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        var total = CheckedSum(probabilities, nameof(probabilities));
        // 0 log 0 is 0: an impossible object adds nothing.
        return probabilities.Where(p => p > 0).Sum(p => -(p / total) * Math.Log2(p / total));
    }

    /// <summary>Entropy in bits of the distribution the counts sample (<c>[1, 1]</c>: 1 bit).</summary>
    public static double EntropyBitsOfCounts(IEnumerable<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return EntropyBits([.. counts.Select(c => (double)c)]);
    }

    /// <summary>
    /// Probabilities from log-probabilities (softmax): each over their sum, computed from the largest so that very
    /// negative log-probabilities (a long reveal scored token by token) neither underflow to all zeros nor overflow.
    /// </summary>
    public static double[] Normalize(IReadOnlyList<double> logProbabilities)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        if (logProbabilities.Count == 0)
        {
            return [];
        }

        if (logProbabilities.Any(l => double.IsNaN(l) || double.IsPositiveInfinity(l)))
        {
            throw new ArgumentException("Log-probabilities must be finite or negative infinity.", nameof(logProbabilities));
        }

        var largest = logProbabilities.Max();
        if (double.IsNegativeInfinity(largest))
        {
            throw new ArgumentException("Every log-probability is negative infinity: there is nothing to normalize.", nameof(logProbabilities));
        }

        var weights = logProbabilities.Select(l => Math.Exp(l - largest)).ToArray();
        var total = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= total;
        }

        return weights;
    }

    /// <summary>Total variation distance between two distributions over the same outcomes: half the sum of absolute differences.</summary>
    public static double TotalVariation(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        if (p.Count != q.Count)
        {
            throw new ArgumentException($"The distributions have {p.Count} and {q.Count} outcomes.", nameof(q));
        }

        return 0.5 * p.Zip(q, (a, b) => Math.Abs(a - b)).Sum();
    }

    /// <summary>
    /// Pearson's chi-square test of <paramref name="observed"/> counts against <paramref name="expected"/> counts (the same
    /// total). Bins whose expected count is under <paramref name="minimumExpected"/> are merged first, smallest first, into
    /// one "rest" bin; if that is still under the minimum it joins the remaining bin with the smallest expected count.
    /// </summary>
    public static ChiSquareResult ChiSquare(IReadOnlyList<double> observed, IReadOnlyList<double> expected, double minimumExpected = 5)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(expected);
        if (observed.Count != expected.Count)
        {
            throw new ArgumentException($"There are {observed.Count} observed counts and {expected.Count} expected ones.", nameof(expected));
        }

        CheckedSum(observed, nameof(observed), allowZeroTotal: true);
        CheckedSum(expected, nameof(expected));
        var bins = new List<ChiSquareBin>();
        var small = new List<int>();
        for (var i = 0; i < expected.Count; i++)
        {
            // A bin expected never to fill cannot be tested alone, whatever the minimum.
            if (expected[i] < minimumExpected || expected[i] <= 0)
            {
                small.Add(i);
            }
            else
            {
                bins.Add(new ChiSquareBin([i], observed[i], expected[i]));
            }
        }

        if (small.Count > 0)
        {
            var rest = new ChiSquareBin(small, small.Sum(i => observed[i]), small.Sum(i => expected[i]));
            if (rest.Expected < minimumExpected && bins.Count > 0)
            {
                var smallest = bins.MinBy(b => b.Expected)!;
                bins[bins.IndexOf(smallest)] = new ChiSquareBin([.. smallest.Indices.Concat(rest.Indices).Order()],
                    smallest.Observed + rest.Observed, smallest.Expected + rest.Expected);
            }
            else
            {
                bins.Add(rest);
            }
        }

        var statistic = bins.Sum(b => (b.Observed - b.Expected) * (b.Observed - b.Expected) / b.Expected);
        var degrees = bins.Count - 1;
        return new ChiSquareResult(statistic, degrees, degrees > 0 ? ChiSquareSurvival(statistic, degrees) : 1, bins);
    }

    /// <summary>The chance that a chi-square variable with <paramref name="degreesOfFreedom"/> is at least <paramref name="statistic"/>.</summary>
    public static double ChiSquareSurvival(double statistic, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(statistic);
        return UpperRegularizedGamma(degreesOfFreedom / 2.0, statistic / 2);
    }

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a): a series for P = 1 - Q below x = a + 1, a continued fraction above (Numerical Recipes, 6.2).</summary>
    internal static double UpperRegularizedGamma(double a, double x)
    {
        if (x == 0)
        {
            return 1;
        }

        if (double.IsPositiveInfinity(x))
        {
            return 0;
        }

        var logPrefactor = -x + (a * Math.Log(x)) - LogGamma(a);
        return x < a + 1 ? 1 - (Math.Exp(logPrefactor) * LowerSeries(a, x)) : Math.Exp(logPrefactor) * UpperContinuedFraction(a, x);
    }

    private static double LowerSeries(double a, double x)
    {
        double term = 1 / a, sum = term, denominator = a;
        for (var n = 0; n < MaximumIterations && Math.Abs(term) > Math.Abs(sum) * Epsilon; n++)
        {
            denominator++;
            term *= x / denominator;
            sum += term;
        }

        return sum;
    }

    // Modified Lentz's method for the continued fraction of Γ(a, x).
    private static double UpperContinuedFraction(double a, double x)
    {
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, fraction = d;
        for (var i = 1; i <= MaximumIterations; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var step = d * c;
            fraction *= step;
            if (Math.Abs(step - 1) < Epsilon)
            {
                break;
            }
        }

        return fraction;
    }

    // Lanczos approximation (g = 7, nine coefficients), about 15 significant digits; reflection below one half.
    private static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        ReadOnlySpan<double> coefficients = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        x -= 1;
        var sum = coefficients[0];
        for (var i = 1; i < coefficients.Length; i++)
        {
            sum += coefficients[i] / (x + i);
        }

        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    private static double CheckedSum(IReadOnlyList<double> values, string name, bool allowZeroTotal = false)
    {
        if (values.Any(v => !double.IsFinite(v) || v < 0))
        {
            throw new ArgumentException("Every value must be finite and not negative.", name);
        }

        var total = values.Sum();
        return total > 0 || allowZeroTotal ? total : throw new ArgumentException("The values sum to zero.", name);
    }
}
