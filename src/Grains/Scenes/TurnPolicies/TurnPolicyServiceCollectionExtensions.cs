using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>Registers the turn policies scenes choose their speakers with.</summary>
internal static class TurnPolicyServiceCollectionExtensions
{
    /// <summary>Adds every <see cref="ITurnPolicy"/> and the <see cref="TurnPolicyCatalog"/> the scene grain resolves them from.</summary>
    public static IServiceCollection AddTurnPolicies(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITurnPolicy, RoundRobinTurnPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITurnPolicy, AddressedTurnPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITurnPolicy, DirectorTurnPolicy>());
        services.TryAddSingleton<TurnPolicyCatalog>();
        return services;
    }
}
