using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>Scores <paramref name="calls"/> in the inference pool under <paramref name="session"/>, retried through silo failures.</summary>
internal delegate Task<IReadOnlyList<ScoreReply>> ScoreInPool(string session, IReadOnlyList<ScoreCall> calls);

/// <summary>What a turn policy sees when it chooses the next speaker.</summary>
/// <param name="SceneKey">The scene's grain key.</param>
/// <param name="Start">The scene's definition, cast and sampling.</param>
/// <param name="Lines">The transcript so far.</param>
/// <param name="Turn">The character turn to fill, from 0.</param>
/// <param name="Score">Scoring through the inference pool, for a policy that asks the model.</param>
internal sealed record TurnContext(string SceneKey, SceneStart Start, IReadOnlyList<SceneLine> Lines, int Turn, ScoreInPool Score)
{
    /// <summary>The characters present, in the scene's order.</summary>
    public IReadOnlyList<PersonaCard> Cast => Start.Cast;

    /// <summary>The character whose turn it is in cast order (round-robin).</summary>
    public PersonaCard InCastOrder => Cast[Turn % Cast.Count];

    /// <summary>The scene's turn-taking settings, defaults filled in.</summary>
    public TurnTaking Floor => TurnTaking.For(Start.Scene);

    /// <summary>
    /// Cast index of the character who must speak now so that nobody stays silent past the scene's max silence; null
    /// when the policy may choose (<see cref="TurnTaking.Overdue"/>).
    /// </summary>
    public int? Overdue => Floor.Overdue(TurnTaking.LastTurns(Cast, Lines), Turn);

    /// <summary>
    /// Whether the last line names the character at <paramref name="castIndex"/> (whole word, any case), said by
    /// someone else: a character naming itself does not address itself.
    /// </summary>
    public bool IsAddressed(int castIndex)
    {
        if (Lines.Count == 0)
        {
            return false;
        }

        var last = Lines[^1];
        var card = Cast[castIndex];
        return !(last.Kind == LineKind.Character && last.SpeakerId == card.Id) && NameMention.Names(last.Text, card.Name);
    }

    /// <summary>Cast index of the character who spoke the last character line; -1 before any.</summary>
    public int LastSpeaker
    {
        get
        {
            var last = Lines.LastOrDefault(l => l.Kind == LineKind.Character);
            if (last is null)
            {
                return -1;
            }

            for (var i = 0; i < Cast.Count; i++)
            {
                if (Cast[i].Id == last.SpeakerId)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
