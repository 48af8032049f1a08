using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Attribution;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Grains.Hosting;

/// <summary>Adds the theater (grains and the pooled inference engine) to a silo.</summary>
public static class TheaterSiloBuilderExtensions
{
    /// <summary>
    /// Adds the inference pool (options from the <c>Inference</c> section, then <paramref name="configureInference"/>),
    /// role attribution (options from the <c>Attribution</c> section, then <paramref name="configureAttribution"/>) and
    /// trace context propagation through grain calls (Orleans' <c>AddActivityPropagation</c>), so the theater's spans nest
    /// across grains. Grain storage named <see cref="TheaterStorage.Name"/> must be added separately (SQLite, Redis or
    /// memory); exporters come from <see cref="TheaterTelemetryHostingExtensions.AddTheaterTelemetry"/>.
    /// </summary>
    public static ISiloBuilder AddTheater(
        this ISiloBuilder builder, Action<InferencePoolOptions>? configureInference = null, Action<AttributionOptions>? configureAttribution = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddInferencePool(configureInference);
        builder.Services.AddSingleton<InferencePoolTelemetry>();
        builder.AddActivityPropagation();
        builder.Services.AddRoleAttribution(configureAttribution);
        return builder;
    }
}
