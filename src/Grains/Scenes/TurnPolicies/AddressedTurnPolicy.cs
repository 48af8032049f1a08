using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// <see cref="TurnPolicy.Addressed"/>: the character named first in the last line (whole word, any case:
/// <see cref="NameMention"/>) speaks next. A narrator or user line naming a character gives it the turn even if it spoke
/// last; a character naming itself does not. With nobody named, the character after the last speaker in the scene's
/// order; before any line, round-robin. A character nobody names would never speak: one about to be silent past the
/// scene's max silence gets the turn first (<see cref="TurnTaking.Overdue"/>).
/// </summary>
internal sealed class AddressedTurnPolicy : ITurnPolicy
{
    public TurnPolicy Policy => TurnPolicy.Addressed;

    public Task<PersonaCard> ChooseSpeakerAsync(TurnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Lines.Count == 0)
        {
            return Task.FromResult(context.InCastOrder);
        }

        var cast = context.Cast;
        if (context.Overdue is { } overdue)
        {
            return Task.FromResult(cast[overdue]);
        }

        var last = context.LastSpeaker;
        var addressing = context.Lines[^1];
        var named = cast
            .Select((c, i) => (Card: c, Index: i, At: NameMention.IndexIn(addressing.Text, c.Name)))
            .Where(c => c.At >= 0 && (c.Index != last || addressing.Kind != LineKind.Character))
            .OrderBy(c => c.At)
            .FirstOrDefault();
        return Task.FromResult(named.Card ?? cast[(last + 1) % cast.Count]);
    }
}
