using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace AgentTheater.Grains.Storage;

/// <summary>Options of <see cref="SqliteGrainStorage"/>.</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>The database file (created with its folder when missing).</summary>
    [Required]
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>How long a writer waits for another's lock before failing.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Durable grain storage in one SQLite file (WAL, synchronous writes, optimistic concurrency on an ETag): the default
/// for a single machine, where memory storage would lose every character at the first restart.
/// </summary>
public sealed partial class SqliteGrainStorage : IGrainStorage
{
    private readonly string _name;
    private readonly string _connectionString;
    private readonly IGrainStorageSerializer _serializer;
    private readonly ILogger _logger;

    /// <summary>Opens (and if needed creates) the database.</summary>
    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IGrainStorageSerializer serializer, ILogger<SqliteGrainStorage> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _name = name;
        _serializer = serializer;
        _logger = logger;
        var path = Path.GetFullPath(options.DatabasePath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OptionsValidationException(name, typeof(SqliteGrainStorageOptions), [$"DatabasePath '{options.DatabasePath}': the folder cannot be created ({e.Message})."]);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)options.BusyTimeout.TotalSeconds,
        }.ToString();
        using var connection = Open();
        // WAL with synchronous=NORMAL: a committed write survives the process being killed (the failure that matters
        // here) without an fsync per write; only an OS crash can lose the last commits.
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS grain_state (
                state_name TEXT NOT NULL,
                grain_id TEXT NOT NULL,
                payload BLOB NOT NULL,
                etag INTEGER NOT NULL,
                updated_utc TEXT NOT NULL,
                PRIMARY KEY (state_name, grain_id)) WITHOUT ROWID;
            """);
    }

    /// <inheritdoc/>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload, etag FROM grain_state WHERE state_name = $state AND grain_id = $grain;";
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            var payload = (byte[])reader.GetValue(0);
            grainState.State = _serializer.Deserialize<T>(new BinaryData(payload));
            grainState.ETag = reader.GetInt64(1).ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var expected = grainState.ETag is null ? 0 : long.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        await using var connection = Open();
        await using var command = connection.CreateCommand();

        // Insert when the caller saw no record, update when the caller's ETag is current; otherwise nothing changes.
        command.CommandText = expected == 0
            ? """
              INSERT INTO grain_state (state_name, grain_id, payload, etag, updated_utc) VALUES ($state, $grain, $payload, 1, $now)
              ON CONFLICT (state_name, grain_id) DO NOTHING;
              """
            : """
              UPDATE grain_state SET payload = $payload, etag = etag + 1, updated_utc = $now
              WHERE state_name = $state AND grain_id = $grain AND etag = $etag;
              """;
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$payload", payload);
        command.Parameters.AddWithValue("$etag", expected);
        command.Parameters.AddWithValue("$now", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        if (await command.ExecuteNonQueryAsync() != 1)
        {
            var stored = await CurrentETagAsync(connection, stateName, grainId);
            LogETagConflict(_logger, _name, stateName, grainId, grainState.ETag, stored);
            throw new InconsistentStateException($"Storage {_name}: {stateName} of {grainId} was changed by someone else (ETag {grainState.ETag ?? "none"}, stored {stored ?? "none"}).", stored, grainState.ETag);
        }

        grainState.ETag = (expected + 1).ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_state WHERE state_name = $state AND grain_id = $grain AND ($etag IS NULL OR etag = $etag);";
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$etag", grainState.ETag is null ? DBNull.Value : long.Parse(grainState.ETag, CultureInfo.InvariantCulture));
        if (await command.ExecuteNonQueryAsync() == 0 && grainState.ETag is not null)
        {
            var stored = await CurrentETagAsync(connection, stateName, grainId);
            if (stored is not null)
            {
                throw new InconsistentStateException($"Storage {_name}: {stateName} of {grainId} was changed by someone else (ETag {grainState.ETag}, stored {stored}).", stored, grainState.ETag);
            }
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    /// <summary>Creates the provider named <paramref name="name"/> from its named options (for <c>AddGrainStorage</c>).</summary>
    internal static SqliteGrainStorage Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name),
        services.GetRequiredService<IGrainStorageSerializer>(),
        services.GetRequiredService<ILogger<SqliteGrainStorage>>());

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task<string?> CurrentETagAsync(SqliteConnection connection, string stateName, GrainId grainId)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT etag FROM grain_state WHERE state_name = $state AND grain_id = $grain;";
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        return await command.ExecuteScalarAsync() is long etag ? etag.ToString(CultureInfo.InvariantCulture) : null;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous=NORMAL;");
        return connection;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Storage {Provider}: ETag conflict writing {StateName} of {GrainId} (had {ETag}, stored {StoredETag})")]
    private static partial void LogETagConflict(ILogger logger, string provider, string stateName, GrainId grainId, string? etag, string? storedETag);
}

/// <summary>Registers <see cref="SqliteGrainStorage"/>.</summary>
public static class SqliteGrainStorageExtensions
{
    /// <summary>Adds a SQLite grain storage provider called <paramref name="name"/>.</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSqliteGrainStorage(name, configure);
        return builder;
    }

    /// <summary>Adds a SQLite grain storage provider called <paramref name="name"/>.</summary>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteGrainStorageOptions> configure)
    {
        services.AddOptions<SqliteGrainStorageOptions>(name).Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        return services.AddGrainStorage(name, SqliteGrainStorage.Create);
    }
}
