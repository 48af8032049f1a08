using Microsoft.Extensions.Options;

namespace AgentTheater.Grains.Storage;

/// <summary>Registers <see cref="SqliteGrainStorage"/> providers on a silo.</summary>
public static class SqliteGrainStorageSiloBuilderExtensions
{
    /// <summary>Adds a SQLite grain storage provider named <paramref name="name"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name grains use in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configureOptions">Sets <see cref="SqliteGrainStorageOptions.DatabasePath"/> and the rest.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSqliteGrainStorage(name, configureOptions);
        return builder;
    }

    /// <summary>Adds a SQLite grain storage provider named <paramref name="name"/>, configured through an options builder.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name grains use in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configureOptions">Configures the options, for example with <c>BindConfiguration</c>.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<OptionsBuilder<SqliteGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSqliteGrainStorage(name, configureOptions);
        return builder;
    }

    /// <summary>Adds a SQLite grain storage provider as the default provider (the one grains get when they name none).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configureOptions">Sets <see cref="SqliteGrainStorageOptions.DatabasePath"/> and the rest.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddSqliteGrainStorageAsDefault(this ISiloBuilder builder, Action<SqliteGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSqliteGrainStorageAsDefault(configureOptions);
        return builder;
    }

    /// <summary>Adds a SQLite grain storage provider as the default provider, configured through an options builder.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configureOptions">Configures the options, for example with <c>BindConfiguration</c>.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddSqliteGrainStorageAsDefault(this ISiloBuilder builder, Action<OptionsBuilder<SqliteGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSqliteGrainStorageAsDefault(configureOptions);
        return builder;
    }
}
