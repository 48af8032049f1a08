using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// How the floor is shared, as numbers: who is overdue to speak (<see cref="MaxSilence"/>) and the prior, in nats,
/// that the director adds to each candidate's name-cue log-probability. Pure: the policies stay thin around it.
/// </summary>
/// <param name="MaxSilence">The most character turns in a row a present character goes without speaking.</param>
/// <param name="RecencyPenalty">Nats taken off a character who spoke last, decaying linearly to none over the cast size.</param>
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
    /// The prior of a candidate, in nats: minus <see cref="RecencyPenalty"/> for the character who spoke last, less by
    /// an equal step for each turn since, none from the cast size less one turns on (a fair share of the floor) nor for
    /// one who never spoke; plus <see cref="AddressedBoost"/> when the last line names it.
    /// </summary>
    public double Prior(int? lastTurn, int turn, int castSize, bool addressed)
    {
        var recency = 0.0;
        if (lastTurn is not null && castSize > 1)
        {
            var share = Math.Max(0.0, 1.0 - ((double)Silence(lastTurn, turn) / (castSize - 1)));
            recency = RecencyPenalty * share;
        }

        return (addressed ? AddressedBoost : 0.0) - recency;
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
