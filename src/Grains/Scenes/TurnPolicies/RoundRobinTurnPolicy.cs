using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary><see cref="TurnPolicy.RoundRobin"/>: the characters present speak in the scene's order.</summary>
internal sealed class RoundRobinTurnPolicy : ITurnPolicy
{
    public TurnPolicy Policy => TurnPolicy.RoundRobin;

    public Task<PersonaCard> ChooseSpeakerAsync(TurnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(context.InCastOrder);
    }
}
