using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// Chooses who speaks at each character turn of a scene whose <see cref="SceneDefinition.Policy"/> is
/// <see cref="Policy"/>. A new policy is a class implementing this, its <see cref="TurnPolicy"/> member, and its line in
/// <see cref="TurnPolicyServiceCollectionExtensions.AddTurnPolicies"/>.
/// </summary>
internal interface ITurnPolicy
{
    /// <summary>The policy a scene names to get this one.</summary>
    TurnPolicy Policy { get; }

    /// <summary>The character who speaks at <see cref="TurnContext.Turn"/>, one of the cast.</summary>
    Task<PersonaCard> ChooseSpeakerAsync(TurnContext context, CancellationToken cancellationToken);
}
