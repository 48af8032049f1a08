using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AgentTheater.Grains.Storage;

/// <summary>The one table and the statements the provider runs against it.</summary>
internal static class SqliteGrainStateTable
{
    /// <summary>Schema version kept in <c>PRAGMA user_version</c>, so a later build can migrate.</summary>
    public const int SchemaVersion = 1;

    // grain_type repeats the type part of grain_id so that operators can query by type.
    // etag is a fresh GUID per write, so a cleared and re-created row never matches an old ETag.
    public const string Create = """
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_id    TEXT NOT NULL,
            state_name  TEXT NOT NULL,
            grain_type  TEXT NOT NULL,
            payload     BLOB NOT NULL,
            etag        TEXT NOT NULL,
            updated_utc TEXT NOT NULL,
            PRIMARY KEY (grain_id, state_name)
        );
        """;

    public const string Select = """
        SELECT payload, etag FROM grain_state WHERE grain_id = $grain_id AND state_name = $state_name;
        """;

    public const string SelectETag = """
        SELECT etag FROM grain_state WHERE grain_id = $grain_id AND state_name = $state_name;
        """;

    public const string Insert = """
        INSERT INTO grain_state (grain_id, state_name, grain_type, payload, etag, updated_utc)
        VALUES ($grain_id, $state_name, $grain_type, $payload, $new_etag, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT (grain_id, state_name) DO NOTHING;
        """;

    public const string Update = """
        UPDATE grain_state
        SET payload = $payload, etag = $new_etag, updated_utc = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE grain_id = $grain_id AND state_name = $state_name AND etag = $etag;
        """;

    public const string Delete = """
        DELETE FROM grain_state WHERE grain_id = $grain_id AND state_name = $state_name AND etag = $etag;
        """;

    public static string ConnectionString(string databasePath, TimeSpan busyTimeout, bool pooling) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = pooling,
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString();

    /// <summary>
    /// Makes SQLite itself wait for locks instead of failing with SQLITE_BUSY. It is a property of
    /// the connection, so it is set on every open (pooled connections may be fresh).
    /// </summary>
    public static void SetBusyTimeout(SqliteConnection connection, TimeSpan busyTimeout)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = " + ((int)busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + ";";
        command.ExecuteNonQuery();
    }
}
