using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>The registered turn policies, by the <see cref="TurnPolicy"/> a scene names.</summary>
internal sealed class TurnPolicyCatalog(IEnumerable<ITurnPolicy> policies)
{
    private readonly Dictionary<TurnPolicy, ITurnPolicy> _byPolicy = policies.ToDictionary(p => p.Policy);

    /// <summary>The policy registered for <paramref name="policy"/>.</summary>
    public ITurnPolicy For(TurnPolicy policy) =>
        _byPolicy.TryGetValue(policy, out var found)
            ? found
            : throw new InvalidOperationException($"No turn policy is registered for {policy}: add its class to AddTurnPolicies.");
}
