using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// How the floor is shared, as numbers: who is overdue to speak (<see cref="MaxSilence"/>) and the prior, in nats,
/// that the director adds to each candidate's name-cue log-probability. Pure: the policies stay thin around it.
/// </summary>
/// <param name="MaxSilence">The most character turns in a row a present character goes without speaking.</param>
/// <param name="RecencyPenalty">
/// Nats taken off a character who spoke last, rising linearly to none at its fair share of the floor (the cast size
/// less one turns) and on past it.
/// </param>
/// <param name="AddressedBoost">Nats added to a character named in the last line.</param>
internal sealed record TurnTaking(int MaxSilence, float RecencyPenalty, float AddressedBoost)
{
    /// <summary>A scene's max silence when it does not say, per character present.</summary>
    public const int DefaultMaxSilencePerCharacter = 3;

    /// <summary>Recency penalty when the scene does not say (nats).</summary>
    public const float DefaultRecencyPenalty = 3f;

    /// <summary>Addressed boost when the scene does not say (nats).</summary>
    public const float DefaultAddressedBoost = 2f;

    /// <summary>The turn-taking of <paramref name="scene"/>, its defaults filled in.</summary>
    public static TurnTaking For(SceneDefinition scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        return new TurnTaking(
            scene.MaxSilence ?? DefaultMaxSilencePerCharacter * Math.Max(1, scene.Present.Count),
            scene.RecencyPenalty ?? DefaultRecencyPenalty,
            scene.AddressedBoost ?? DefaultAddressedBoost);
    }

    /// <summary>For each of <paramref name="cast"/>, the character turn of its last line in <paramref name="lines"/>; null for one who never spoke.</summary>
    public static int?[] LastTurns(IReadOnlyList<PersonaCard> cast, IReadOnlyList<SceneLine> lines)
    {
        ArgumentNullException.ThrowIfNull(cast);
        ArgumentNullException.ThrowIfNull(lines);
        var last = new int?[cast.Count];
        foreach (var line in lines.Where(l => l.Kind == LineKind.Character))
        {
            for (var i = 0; i < cast.Count; i++)
            {
                if (cast[i].Id == line.SpeakerId)
                {
                    last[i] = line.Turn;
                }
            }
        }

        return last;
    }

    /// <summary>Character turns others have taken since a character last spoke, before <paramref name="turn"/>; from the scene start for one who never spoke.</summary>
    public static int Silence(int? lastTurn, int turn) => turn - (lastTurn ?? -1) - 1;

    /// <summary>
    /// The cast index of the character who must speak at <paramref name="turn"/> so that nobody goes past
    /// <see cref="MaxSilence"/>; null when the choice is free. A character gets the turn at its limit, or earlier when
    /// waiting would leave more characters due within k turns than k turns can serve (several who never spoke reach the
    /// limit together): the earliest deadline first, which keeps every silence within the limit whenever it is at least
    /// the cast size less one. Below that nobody can keep it: every turn is forced and the scene goes round-robin. The
    /// longest silent is chosen; ties in cast order.
    /// </summary>
    public int? Overdue(IReadOnlyList<int?> lastTurns, int turn)
    {
        ArgumentNullException.ThrowIfNull(lastTurns);
        var slacks = lastTurns.Select(t => MaxSilence - Silence(t, turn)).Order().ToList();
        if (!slacks.Where((slack, k) => slack <= k).Any())
        {
            return null;
        }

        var longest = -1;
        for (var i = 0; i < lastTurns.Count; i++)
        {
            if (longest < 0 || Silence(lastTurns[i], turn) > Silence(lastTurns[longest], turn))
            {
                longest = i;
            }
        }

        return longest;
    }

    /// <summary>
    /// The prior of a candidate, in nats, linear in its silence: minus <see cref="RecencyPenalty"/> for the character who
    /// spoke last, rising by an equal step each turn to none at the cast size less one turns (a fair share of the floor)
    /// and on past it, so a character left silent longer than its share becomes likelier each turn (one who never spoke
    /// counts its silence from the scene's start); plus <see cref="AddressedBoost"/> when the last line names it.
    /// </summary>
    /// <remarks>
    /// Measured on the default model (<c>bench scene</c>, six characters, 1,000 turns): with the penalty alone, fading to
    /// none at the fair share, two characters took 72% of the turns and three spoke only when <c>max_silence</c> forced
    /// them (5.2% each); the name cues of recent speakers stay likelier than a penalty that stops at the fair share.
    /// </remarks>
    public double Prior(int? lastTurn, int turn, int castSize, bool addressed)
    {
        var fairShare = Math.Max(1, castSize - 1);
        var turnTaking = castSize > 1 ? (double)RecencyPenalty * (Silence(lastTurn, turn) - fairShare) / fairShare : 0.0;
        return (addressed ? AddressedBoost : 0.0) + turnTaking;
    }

    /// <summary>
    /// The most the model's preference among the candidates weighs against the prior, in nats: when the name cues'
    /// log-likelihoods span more, they are compressed to span this much. Raw log-likelihoods of names can differ by
    /// tens of nats (a name the model has seen often against one it spells out piece by piece), which no prior of a few
    /// nats could move.
    /// </summary>
    public const double ModelWeight = 3.0;

    /// <summary>
    /// The model's log-likelihoods of the candidates relative to the likeliest (which gets 0), compressed to span at
    /// most <see cref="ModelWeight"/> nats; a smaller spread is kept as it is.
    /// </summary>
    public static IReadOnlyList<double> ScaleToModelWeight(IReadOnlyList<double> logLikelihoods)
    {
        ArgumentNullException.ThrowIfNull(logLikelihoods);
        if (logLikelihoods.Count == 0)
        {
            return [];
        }

        var max = logLikelihoods.Max();
        var spread = max - logLikelihoods.Min();
        var scale = spread > ModelWeight ? ModelWeight / spread : 1.0;
        return [.. logLikelihoods.Select(l => (l - max) * scale)];
    }

    /// <summary>The index with the highest log-probability plus prior; the first of equals.</summary>
    public static int Likeliest(IReadOnlyList<double> logProbabilities, IReadOnlyList<double> priors)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        ArgumentNullException.ThrowIfNull(priors);
        if (logProbabilities.Count == 0 || logProbabilities.Count != priors.Count)
        {
            throw new ArgumentException($"Expected one prior per log-probability and at least one, got {logProbabilities.Count} and {priors.Count}.", nameof(priors));
        }

        var best = 0;
        for (var i = 1; i < logProbabilities.Count; i++)
        {
            if (logProbabilities[i] + priors[i] > logProbabilities[best] + priors[best])
            {
                best = i;
            }
        }

        return best;
    }
}
