using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace AgentTheater.Grains.Storage;

/// <summary>Registers <see cref="SqliteGrainStorage"/> providers on an <see cref="IServiceCollection"/>.</summary>
public static class SqliteGrainStorageServiceCollectionExtensions
{
    /// <summary>Adds a SQLite grain storage provider named <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The provider name grains use in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configureOptions">Sets <see cref="SqliteGrainStorageOptions.DatabasePath"/> and the rest.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(configureOptions);
        return services.AddSqliteGrainStorage(name, builder => builder.Configure(configureOptions));
    }

    /// <summary>Adds a SQLite grain storage provider as the default provider (the one grains get when they name none).</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configureOptions">Sets <see cref="SqliteGrainStorageOptions.DatabasePath"/> and the rest.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddSqliteGrainStorageAsDefault(this IServiceCollection services, Action<SqliteGrainStorageOptions> configureOptions) =>
        services.AddSqliteGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>Adds a SQLite grain storage provider as the default provider, configured through an options builder.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configureOptions">Configures the options, for example with <c>BindConfiguration</c>.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddSqliteGrainStorageAsDefault(this IServiceCollection services, Action<OptionsBuilder<SqliteGrainStorageOptions>>? configureOptions = null) =>
        services.AddSqliteGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>Adds a SQLite grain storage provider named <paramref name="name"/>, configured through an options builder.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The provider name grains use in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configureOptions">Configures the options, for example with <c>BindConfiguration</c>.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<OptionsBuilder<SqliteGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        configureOptions?.Invoke(services.AddOptions<SqliteGrainStorageOptions>(name));

        // Orleans runs every IConfigurationValidator when the silo starts.
        services.AddTransient<IConfigurationValidator>(sp =>
            new SqliteGrainStorageOptionsValidator(sp.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name), name));

        // Fills GrainStorageSerializer with the silo's IGrainStorageSerializer when left unset.
        services.TryAddEnumerable(ServiceDescriptor.Transient<
            IPostConfigureOptions<SqliteGrainStorageOptions>,
            DefaultStorageProviderSerializerOptionsConfigurator<SqliteGrainStorageOptions>>());
        services.ConfigureNamedOptionForLogging<SqliteGrainStorageOptions>(name);

        // Keyed IGrainStorage singleton, the unkeyed default when named "Default", and the silo
        // lifecycle participant (the provider implements ILifecycleParticipant<ISiloLifecycle>).
        return services.AddGrainStorage(name, SqliteGrainStorage.Create);
    }
}
