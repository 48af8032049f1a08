using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace AgentTheater.Grains.Storage;

/// <summary>
/// Grain storage in one SQLite file for the single-machine mode: one row per grain state, ETag
/// checks like Orleans' own providers, WAL journal, and one writer per silo that commits concurrent
/// writes together. A write or clear that returned is on disk.
/// </summary>
/// <remarks>
/// Reads use pooled connections and run alongside the writer (WAL). Several silos, or processes,
/// may open one file: SQLite's write lock and <see cref="SqliteGrainStorageOptions.BusyTimeout"/>
/// serialize their writers.
/// </remarks>
public sealed partial class SqliteGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly string _name;
    private readonly SqliteGrainStorageOptions _options;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activatorProvider;
    private readonly ILogger _logger;
    private string? _readConnectionString;
    private SqliteGrainStateWriter? _writer;

    /// <summary>Creates the provider; the database opens when the silo reaches <see cref="SqliteGrainStorageOptions.InitStage"/>.</summary>
    /// <param name="name">The provider name grains use in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="options">The options; <see cref="SqliteGrainStorageOptions.GrainStorageSerializer"/> must be set.</param>
    /// <param name="activatorProvider">Creates default state when a row is missing or cleared.</param>
    /// <param name="logger">The logger.</param>
    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IActivatorProvider activatorProvider, ILogger<SqliteGrainStorage> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(activatorProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _name = name;
        _options = options;
        _serializer = options.GrainStorageSerializer
            ?? throw new ArgumentException($"{nameof(SqliteGrainStorageOptions.GrainStorageSerializer)} is not set for grain storage '{name}'.", nameof(options));
        _activatorProvider = activatorProvider;
        _logger = logger;
    }

    /// <summary>Factory for <c>AddGrainStorage</c>: the provider named <paramref name="name"/> with its named options.</summary>
    public static SqliteGrainStorage Create(IServiceProvider services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name);
        return ActivatorUtilities.CreateInstance<SqliteGrainStorage>(services, name, options);
    }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(SqliteGrainStorage)}-{_name}", _options.InitStage, InitializeAsync, CloseAsync);

    /// <summary>Opens the database (creating file, directory and table if missing) and starts the writer.</summary>
    internal Task InitializeAsync(CancellationToken cancellationToken)
    {
        var databasePath = Path.GetFullPath(_options.DatabasePath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
            var (writer, journalMode) = SqliteGrainStateWriter.Open(_name, databasePath, _options.BusyTimeout, _options.MaxWriteBatchSize, _logger);
            _readConnectionString = SqliteGrainStateTable.ConnectionString(databasePath, _options.BusyTimeout, pooling: true);
            _writer = writer;
            if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                LogWarningNotWal(_name, databasePath, journalMode);
            }

            LogInformationOpened(_name, databasePath, journalMode);
        }
        catch (Exception ex)
        {
            LogErrorOpenFailed(ex, _name, databasePath);
            throw;
        }

        return Task.CompletedTask;
    }

    /// <summary>Commits the writes still queued, checkpoints and closes the file.</summary>
    internal async Task CloseAsync(CancellationToken cancellationToken)
    {
        var writer = Interlocked.Exchange(ref _writer, null);
        if (writer is null)
        {
            return;
        }

        await writer.DisposeAsync();
        if (_readConnectionString is { } readConnectionString)
        {
            // Idle pooled readers keep the file open; let it go with the silo.
            using var connection = new SqliteConnection(readConnectionString);
            SqliteConnection.ClearPool(connection);
        }

        LogInformationClosed(_name);
    }

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var connectionString = _readConnectionString ?? throw NotOpen();
        byte[]? payload = null;
        string? etag = null;
        try
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync();
            SqliteGrainStateTable.SetBusyTimeout(connection, _options.BusyTimeout);
            await using var command = connection.CreateCommand();
            command.CommandText = SqliteGrainStateTable.Select;
            command.Parameters.AddWithValue("$grain_id", grainId.ToString());
            command.Parameters.AddWithValue("$state_name", stateName);
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                payload = reader.GetFieldValue<byte[]>(0);
                etag = reader.GetString(1);
            }
        }
        catch (Exception ex)
        {
            LogErrorReadFailed(ex, _name, stateName, grainId);
            throw;
        }

        if (payload is null)
        {
            grainState.State = CreateDefault<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = _serializer.Deserialize<T>(new BinaryData(payload)) ?? CreateDefault<T>();
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var writer = _writer ?? throw NotOpen();
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var change = new GrainStateChange(GrainStateChangeKind.Write, grainId.ToString(), grainId.Type.ToString()!, stateName, grainState.ETag, payload);
        var outcome = await writer.EnqueueAsync(change);
        if (!outcome.Applied)
        {
            throw Conflict("Write", stateName, grainId, grainState.ETag, outcome.ETag);
        }

        grainState.ETag = outcome.ETag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var writer = _writer ?? throw NotOpen();
        var change = new GrainStateChange(GrainStateChangeKind.Clear, grainId.ToString(), grainId.Type.ToString()!, stateName, grainState.ETag, payload: null);
        var outcome = await writer.EnqueueAsync(change);
        if (!outcome.Applied)
        {
            throw Conflict("Clear", stateName, grainId, grainState.ETag, outcome.ETag);
        }

        grainState.State = CreateDefault<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private T CreateDefault<T>() => _activatorProvider.GetActivator<T>().Create();

    private InvalidOperationException NotOpen() => new($"SQLite grain storage '{_name}' is not open: the silo has not started it or has stopped it.");

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? expectedETag, string? storedETag)
    {
        LogDebugETagConflict(_name, operation, stateName, grainId, expectedETag, storedETag);
        return new InconsistentStateException(
            $"ETag conflict in SQLite grain storage '{_name}' ({operation}): state '{stateName}' of grain {grainId} was expected at ETag '{expectedETag ?? "(no row)"}' but is at '{storedETag ?? "(no row)"}'.",
            storedETag ?? "",
            expectedETag ?? "");
    }

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "SQLite grain storage {StorageName} opened {DatabasePath} (journal mode {JournalMode})")]
    private partial void LogInformationOpened(string storageName, string databasePath, string journalMode);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning, Message = "SQLite grain storage {StorageName}: {DatabasePath} is in journal mode {JournalMode}, not WAL; reads will wait for writes")]
    private partial void LogWarningNotWal(string storageName, string databasePath, string journalMode);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Error, Message = "SQLite grain storage {StorageName} could not open {DatabasePath}")]
    private partial void LogErrorOpenFailed(Exception exception, string storageName, string databasePath);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Information, Message = "SQLite grain storage {StorageName} closed")]
    private partial void LogInformationClosed(string storageName);

    [LoggerMessage(EventId = 3505, Level = LogLevel.Error, Message = "SQLite grain storage {StorageName} failed to read state {StateName} of grain {GrainId}")]
    private partial void LogErrorReadFailed(Exception exception, string storageName, string stateName, GrainId grainId);

    [LoggerMessage(EventId = 3506, Level = LogLevel.Debug, Message = "SQLite grain storage {StorageName}: {Operation} of state {StateName} of grain {GrainId} expected ETag {ExpectedETag}, found {StoredETag}")]
    private partial void LogDebugETagConflict(string storageName, string operation, string stateName, GrainId grainId, string? expectedETag, string? storedETag);
}
