using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Storage;

/// <summary>What the writer does to one grain state row.</summary>
internal enum GrainStateChangeKind
{
    Write,
    Clear,
}

/// <summary>
/// One queued write or clear. <see cref="ExpectedETag"/> is the ETag the grain last saw; null means
/// it saw no row. The payload is serialized on the grain's thread before it is queued.
/// </summary>
internal sealed class GrainStateChange(GrainStateChangeKind kind, string grainId, string grainType, string stateName, string? expectedETag, byte[]? payload)
{
    public GrainStateChangeKind Kind { get; } = kind;
    public string GrainId { get; } = grainId;
    public string GrainType { get; } = grainType;
    public string StateName { get; } = stateName;
    public string? ExpectedETag { get; } = expectedETag;
    public byte[]? Payload { get; } = payload;

    // Continuations run off the writer loop, so one slow grain never holds up the next batch.
    public TaskCompletionSource<GrainStateChangeOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Whether a change was applied. When applied, <see cref="ETag"/> is the row's new ETag (null after
/// a clear); when not, it is the ETag found in the row (null if there is no row).
/// </summary>
internal readonly record struct GrainStateChangeOutcome(bool Applied, string? ETag);

/// <summary>
/// The single writer of one database: a queue drained by one loop on one connection. Whatever is
/// queued while a transaction commits goes into the next one, so concurrent grains share a sync to
/// disk (group commit) and never compete for SQLite's write lock among themselves. A change's task
/// completes only after its transaction commits with <c>synchronous = FULL</c>, so it is on disk.
/// </summary>
internal sealed partial class SqliteGrainStateWriter : IAsyncDisposable
{
    private readonly Channel<GrainStateChange> _queue =
        Channel.CreateUnbounded<GrainStateChange>(new UnboundedChannelOptions { SingleReader = true });

    private readonly string _name;
    private readonly int _maxBatchSize;
    private readonly ILogger _logger;
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _commit;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _update;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _selectETag;
    private readonly Task _loop;

    private SqliteGrainStateWriter(string name, SqliteConnection connection, int maxBatchSize, ILogger logger)
    {
        _name = name;
        _connection = connection;
        _maxBatchSize = maxBatchSize;
        _logger = logger;
        _begin = Command("BEGIN IMMEDIATE;");
        _commit = Command("COMMIT;");
        _insert = Command(SqliteGrainStateTable.Insert, "$grain_id", "$state_name", "$grain_type", "$payload", "$new_etag");
        _update = Command(SqliteGrainStateTable.Update, "$grain_id", "$state_name", "$payload", "$new_etag", "$etag");
        _delete = Command(SqliteGrainStateTable.Delete, "$grain_id", "$state_name", "$etag");
        _selectETag = Command(SqliteGrainStateTable.SelectETag, "$grain_id", "$state_name");
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Opens the database, switches it to WAL, creates the table if missing and starts the loop.
    /// Returns the journal mode SQLite reports, which is not "wal" on file systems without shared memory.
    /// </summary>
    public static (SqliteGrainStateWriter Writer, string JournalMode) Open(
        string name, string databasePath, TimeSpan busyTimeout, int maxBatchSize, ILogger logger)
    {
        // Not pooled: this connection lives as long as the silo, with its own pragmas.
        var connection = new SqliteConnection(SqliteGrainStateTable.ConnectionString(databasePath, busyTimeout, pooling: false));
        try
        {
            connection.Open();
            SqliteGrainStateTable.SetBusyTimeout(connection, busyTimeout);
            string journalMode;
            using (var command = connection.CreateCommand())
            {
                // WAL is stored in the file: readers never block the writer nor the writer readers.
                // FULL syncs the WAL on every commit; NORMAL could lose the last commits on power loss.
                command.CommandText = "PRAGMA journal_mode = WAL;";
                journalMode = Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
                command.CommandText = "PRAGMA synchronous = FULL;";
                command.ExecuteNonQuery();
            }

            CreateSchema(connection, databasePath);
            return (new SqliteGrainStateWriter(name, connection, maxBatchSize, logger), journalMode);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void CreateSchema(SqliteConnection connection, string databasePath)
    {
        // IMMEDIATE takes the write lock first, so two silos starting on one file do not race.
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SqliteGrainStateTable.SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The grain state database '{databasePath}' has schema version {version}; this build knows version {SqliteGrainStateTable.SchemaVersion} at most.");
        }

        command.CommandText = SqliteGrainStateTable.Create;
        command.ExecuteNonQuery();
        command.CommandText = $"PRAGMA user_version = {SqliteGrainStateTable.SchemaVersion};";
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Queues a change; the task completes once its transaction has committed (or failed).</summary>
    public Task<GrainStateChangeOutcome> EnqueueAsync(GrainStateChange change)
    {
        if (!_queue.Writer.TryWrite(change))
        {
            throw new InvalidOperationException($"SQLite grain storage '{_name}' is closed.");
        }

        return change.Completion.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<GrainStateChange>(_maxBatchSize);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatchSize && _queue.Reader.TryRead(out var change))
            {
                batch.Add(change);
            }

            CommitBatch(batch);
            batch.Clear();
        }
    }

    private void CommitBatch(List<GrainStateChange> batch)
    {
        var outcomes = new GrainStateChangeOutcome[batch.Count];
        try
        {
            _begin.ExecuteNonQuery();
            for (var i = 0; i < batch.Count; i++)
            {
                outcomes[i] = Apply(batch[i]);
            }

            _commit.ExecuteNonQuery();
        }
        catch (Exception ex)
        {
            // Serialization happened before queueing, so a failure here is the database's (disk
            // full, I/O error, lock timeout) and concerns the whole transaction: fail all of it.
            RollBack();
            LogErrorWriteBatchFailed(ex, _name, batch.Count);
            foreach (var change in batch)
            {
                change.Completion.TrySetException(ex);
            }

            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
    }

    private GrainStateChangeOutcome Apply(GrainStateChange change)
    {
        int rows;
        string? newETag = null;
        switch (change.Kind)
        {
            case GrainStateChangeKind.Write when change.ExpectedETag is null:
                newETag = NewETag();
                rows = Execute(_insert, change.GrainId, change.StateName, change.GrainType, change.Payload, newETag);
                break;
            case GrainStateChangeKind.Write:
                newETag = NewETag();
                rows = Execute(_update, change.GrainId, change.StateName, change.Payload, newETag, change.ExpectedETag);
                break;
            case GrainStateChangeKind.Clear when change.ExpectedETag is null:
                // The grain saw no row: clearing is a no-op if there still is none, else a conflict.
                var found = ReadETag(change);
                return new GrainStateChangeOutcome(found is null, found);
            case GrainStateChangeKind.Clear:
                rows = Execute(_delete, change.GrainId, change.StateName, change.ExpectedETag);
                break;
            default:
                throw new InvalidOperationException($"Unknown change kind {change.Kind}.");
        }

        return rows == 1 ? new GrainStateChangeOutcome(true, newETag) : new GrainStateChangeOutcome(false, ReadETag(change));
    }

    private string? ReadETag(GrainStateChange change)
    {
        _selectETag.Parameters[0].Value = change.GrainId;
        _selectETag.Parameters[1].Value = change.StateName;
        return _selectETag.ExecuteScalar() as string;
    }

    private static int Execute(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQuery();
    }

    private static string NewETag() => Guid.NewGuid().ToString("N");

    private void RollBack()
    {
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "ROLLBACK;";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // SQLite already rolled back (I/O errors and full disks end the transaction themselves).
        }
    }

    private SqliteCommand Command(string text, params string[] parameterNames)
    {
        var command = _connection.CreateCommand();
        command.CommandText = text;
        foreach (var parameterName in parameterNames)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = parameterName });
        }

        return command;
    }

    /// <summary>Stops taking changes, commits what is queued, then checkpoints and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        try
        {
            // Folds the WAL back into the database so the file stands alone when the silo is down.
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            LogWarningCheckpointFailed(ex, _name);
        }

        foreach (var command in new[] { _begin, _commit, _insert, _update, _delete, _selectETag })
        {
            command.Dispose();
        }

        await _connection.DisposeAsync();
    }

    [LoggerMessage(EventId = 3511, Level = LogLevel.Error, Message = "SQLite grain storage {StorageName}: a transaction of {ChangeCount} changes failed and was rolled back")]
    private partial void LogErrorWriteBatchFailed(Exception exception, string storageName, int changeCount);

    [LoggerMessage(EventId = 3512, Level = LogLevel.Warning, Message = "SQLite grain storage {StorageName}: the WAL checkpoint at close failed; the next open replays it")]
    private partial void LogWarningCheckpointFailed(Exception exception, string storageName);
}
