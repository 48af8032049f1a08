using AgentTheater.Inference.Chat;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentTheater.Inference.Hosting;

/// <summary>Registers the pooled inference engine.</summary>
public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Adds one <see cref="InferencePool"/> (options bound from the <c>Inference</c> section and validated at start).
    /// The model loads on first use, so a host that never asks for the pool never loads it.
    /// </summary>
    public static IServiceCollection AddInferencePool(this IServiceCollection services, Action<InferencePoolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<InferencePoolOptions>()
            .BindConfiguration(InferencePoolOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton(provider => new InferencePool(
            provider.GetRequiredService<IOptions<InferencePoolOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Adds a <see cref="PooledChatClient"/> over the registered <see cref="InferencePool"/> (options from
    /// <c>Inference:Chat</c>), also as the <see cref="IChatClient"/>, so Microsoft.Extensions.AI code can talk to the
    /// pooled model. The client, and so the pool, is created on first use; adding it twice adds it once.
    /// </summary>
    public static IServiceCollection AddPooledChatClient(this IServiceCollection services, Action<PooledChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PooledChatClientOptions>().BindConfiguration(PooledChatClientOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(provider => new PooledChatClient(
            provider.GetRequiredService<InferencePool>(),
            provider.GetRequiredService<IOptions<PooledChatClientOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
        services.TryAddSingleton<IChatClient>(provider => provider.GetRequiredService<PooledChatClient>());
        return services;
    }
}
