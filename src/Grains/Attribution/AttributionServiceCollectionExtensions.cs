using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Grains.Attribution;

/// <summary>Registers role attribution's options.</summary>
public static class AttributionServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="AttributionOptions"/>, bound from the <c>Attribution</c> section, then <paramref name="configure"/>,
    /// and validated when the silo starts.
    /// </summary>
    public static IServiceCollection AddRoleAttribution(this IServiceCollection services, Action<AttributionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AttributionOptions>()
            .BindConfiguration(AttributionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services;
    }
}
