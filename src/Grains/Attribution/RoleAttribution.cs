using AgentTheater.Contracts.Attribution;

namespace AgentTheater.Grains.Attribution;

/// <summary>
/// The maths of role attribution: from each hypothesis's log-likelihood of a line to a posterior over roles, and
/// from the posterior to a verdict about the assigned role. Pure functions, so they are tested on known numbers.
/// </summary>
public static class RoleAttribution
{
    /// <summary>Log-likelihood per token: lines of different lengths become comparable.</summary>
    public static double MeanLogLikelihood(double logProbability, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        return logProbability / tokens;
    }

    /// <summary>
    /// Posterior over hypotheses with a uniform prior: softmax of <paramref name="sharpness"/> × each mean
    /// log-likelihood per token. Computed with the largest term subtracted, so no exponent overflows.
    /// </summary>
    public static double[] Posterior(IReadOnlyList<double> meanLogLikelihoods, double sharpness)
    {
        ArgumentNullException.ThrowIfNull(meanLogLikelihoods);
        return Posterior(meanLogLikelihoods, sharpness, [.. Enumerable.Repeat(1.0 / Math.Max(1, meanLogLikelihoods.Count), meanLogLikelihoods.Count)]);
    }

    /// <summary>Posterior ∝ prior × exp(<paramref name="sharpness"/> × mean log-likelihood); the prior need not be normalised.</summary>
    public static double[] Posterior(IReadOnlyList<double> meanLogLikelihoods, double sharpness, IReadOnlyList<double> prior)
    {
        ArgumentNullException.ThrowIfNull(meanLogLikelihoods);
        ArgumentNullException.ThrowIfNull(prior);
        if (meanLogLikelihoods.Count == 0)
        {
            throw new ArgumentException("There must be at least one hypothesis.", nameof(meanLogLikelihoods));
        }

        if (prior.Count != meanLogLikelihoods.Count)
        {
            throw new ArgumentException($"The prior has {prior.Count} entries for {meanLogLikelihoods.Count} hypotheses.", nameof(prior));
        }

        if (!(sharpness > 0) || !double.IsFinite(sharpness))
        {
            throw new ArgumentOutOfRangeException(nameof(sharpness), sharpness, "Sharpness must be a positive finite number.");
        }

        var logits = new double[meanLogLikelihoods.Count];
        for (var i = 0; i < logits.Length; i++)
        {
            if (!(prior[i] >= 0) || double.IsNaN(meanLogLikelihoods[i]))
            {
                throw new ArgumentException($"Hypothesis {i}: prior {prior[i]} and log-likelihood {meanLogLikelihoods[i]} must be a non-negative number and a number.");
            }

            logits[i] = prior[i] == 0 ? double.NegativeInfinity : sharpness * meanLogLikelihoods[i] + Math.Log(prior[i]);
        }

        var max = logits.Max();
        if (double.IsNegativeInfinity(max))
        {
            throw new ArgumentException("Every hypothesis has zero prior or zero likelihood.", nameof(meanLogLikelihoods));
        }

        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            logits[i] = Math.Exp(logits[i] - max);
            sum += logits[i];
        }

        for (var i = 0; i < logits.Length; i++)
        {
            logits[i] /= sum;
        }

        return logits;
    }

    /// <summary>
    /// How a line relates to the assigned role (at <paramref name="assigned"/>): taken over when its posterior is below
    /// <paramref name="threshold"/> or another is ahead by <paramref name="margin"/> or more; held when it is the highest
    /// (ties included) and not below the threshold; ambiguous otherwise.
    /// </summary>
    public static LineJudgement Judge(IReadOnlyList<double> posterior, int assigned, double threshold, double margin)
    {
        ArgumentNullException.ThrowIfNull(posterior);
        ArgumentOutOfRangeException.ThrowIfNegative(assigned);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(assigned, posterior.Count);
        var own = posterior[assigned];
        var rival = -1;
        for (var i = 0; i < posterior.Count; i++)
        {
            if (i != assigned && (rival < 0 || posterior[i] > posterior[rival]))
            {
                rival = i;
            }
        }

        var rivalPosterior = rival < 0 ? 0 : posterior[rival];
        var verdict = own < threshold || rivalPosterior - own >= margin ? LineVerdict.TakenOver
            : own >= rivalPosterior ? LineVerdict.Held
            : LineVerdict.Ambiguous;
        return new LineJudgement(verdict, own, rival, rivalPosterior);
    }

    /// <summary>
    /// The trigger of a takeover: of the candidates (each a line left out, with the assigned role's posterior without
    /// it), the one whose removal restores the assigned role most, i.e. leaves it the highest posterior; the first of
    /// equals. Null when there are no candidates.
    /// </summary>
    public static TriggerCandidate? ChooseTrigger(IReadOnlyList<TriggerCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        TriggerCandidate? best = null;
        foreach (var candidate in candidates)
        {
            if (best is null || candidate.AssignedPosterior > best.AssignedPosterior)
            {
                best = candidate;
            }
        }

        return best;
    }
}

/// <summary>The verdict on one line.</summary>
/// <param name="Verdict">Held, taken over or ambiguous.</param>
/// <param name="Assigned">The assigned role's posterior.</param>
/// <param name="Rival">Index of the most probable other hypothesis (-1 when there is none).</param>
/// <param name="RivalPosterior">Its posterior.</param>
public sealed record LineJudgement(LineVerdict Verdict, double Assigned, int Rival, double RivalPosterior);
