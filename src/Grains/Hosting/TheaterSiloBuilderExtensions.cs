using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Inference;
using AgentTheater.Grains.Scenes.TurnPolicies;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json;
using Orleans.Serialization;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace AgentTheater.Grains.Hosting;

/// <summary>What one silo brings to a theater cluster.</summary>
/// <param name="HostsInference">
/// True when this silo has a model and runs the inference pool (on a GPU in production); the inference grain is placed
/// only on such silos. A silo without it never loads a model.
/// </param>
/// <param name="Metadata">Silo metadata it declares, e.g. <c>gpu=true</c> (the model is added from the inference options).</param>
public sealed record TheaterSiloProfile(bool HostsInference, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>A silo with a model and nothing else declared: the embedded single-machine silo.</summary>
    public static TheaterSiloProfile Inference { get; } = new(true, new Dictionary<string, string>());
}

/// <summary>Adds the theater (grains and the pooled inference engine) to a silo.</summary>
public static class TheaterSiloBuilderExtensions
{
    /// <summary>
    /// Adds the theater to a silo that hosts the inference pool (see the overload taking a <see cref="TheaterSiloProfile"/>).
    /// </summary>
    public static ISiloBuilder AddTheater(
        this ISiloBuilder builder, Action<InferencePoolOptions>? configureInference = null, Action<AttributionOptions>? configureAttribution = null) =>
        builder.AddTheater(TheaterSiloProfile.Inference, configureInference, configureAttribution);

    /// <summary>
    /// Adds the inference pool when <paramref name="profile"/> hosts it (options from the <c>Inference</c> section, then
    /// <paramref name="configureInference"/>), role attribution (options from the <c>Attribution</c> section, then
    /// <paramref name="configureAttribution"/>), trace context propagation through grain calls (Orleans'
    /// <c>AddActivityPropagation</c>) and the spans of inference calls, the scenes' turn policies, this silo's metadata
    /// (Orleans silo metadata: the declared pairs and the model) and the placement filter that keeps the inference grain
    /// on silos with a model. Grain storage named <see cref="TheaterStorage.Name"/> must be added separately (SQLite,
    /// Redis or memory); exporters come from <see cref="TheaterTelemetryHostingExtensions.AddTheaterTelemetry"/>.
    /// </summary>
    public static ISiloBuilder AddTheater(
        this ISiloBuilder builder,
        TheaterSiloProfile profile,
        Action<InferencePoolOptions>? configureInference = null,
        Action<AttributionOptions>? configureAttribution = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.HostsInference)
        {
            builder.Services.AddInferencePool(configureInference);
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, InferencePoolStartup>();
        }

        // Grain state is stored as JSON of concrete types. Orleans writes a $type for every value whose runtime type is
        // not the declared one, and a list made by a collection expression is a compiler-generated type that its
        // reader then refuses: a scene or run stored that way could never be activated again.
        builder.Services.Configure<OrleansJsonSerializerOptions>(o => o.JsonSerializerSettings.TypeNameHandling = TypeNameHandling.None);
        builder.Services.AddSingleton<InferencePoolTelemetry>();
        builder.AddActivityPropagation();

        // After Orleans' call spans, so an inference call's span nests inside the server span of that call.
        builder.AddIncomingGrainCallFilter<InferenceTracingFilter>();

        builder.Services.AddRoleAttribution(configureAttribution);
        builder.Services.AddTurnPolicies();

        // Orleans' silo metadata (published to every silo, cached by each) and the filter that reads it.
        var metadata = new Dictionary<string, string>(profile.Metadata, StringComparer.Ordinal);
        metadata.Remove(TheaterSiloMetadata.Model);
        if (profile.HostsInference)
        {
            metadata[TheaterSiloMetadata.Model] = Path.GetFileName(ModelPath(builder.Configuration, configureInference));
        }

        builder.UseSiloMetadata(metadata);
        builder.Services.AddPlacementFilter<InferenceSiloPlacementFilterStrategy, InferenceSiloPlacementFilterDirector>(ServiceLifetime.Transient);
        return builder;
    }

    /// <summary>The model the pool will load: the <c>Inference</c> section, then the code's settings over it.</summary>
    private static string ModelPath(IConfiguration configuration, Action<InferencePoolOptions>? configureInference)
    {
        var options = new InferencePoolOptions();
        configuration.GetSection(InferencePoolOptions.SectionName).Bind(options);
        configureInference?.Invoke(options);
        return options.ModelPath;
    }
}
