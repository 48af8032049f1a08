using Orleans.Storage;

namespace AgentTheater.Grains.Storage;

/// <summary>Options for one named SQLite grain storage provider.</summary>
/// <remarks>
/// Rows are keyed by grain id and state name only, not by ServiceId: one database file holds one
/// service's state, and a restarted silo (new ClusterId, same file) reads what the last one wrote.
/// </remarks>
public sealed class SqliteGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>Path of the database file. Relative paths resolve against the working directory; the directory is created at start.</summary>
    public string DatabasePath { get; set; } = "";

    /// <summary>How long a statement waits on a lock held by another connection (another silo or process) before it fails.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most writes and clears the writer commits in one transaction, which costs one sync to disk.</summary>
    public int MaxWriteBatchSize { get; set; } = 256;

    /// <summary>Silo lifecycle stage at which the database is opened; it closes at the same stage on the way down, after grains are deactivated.</summary>
    public int InitStage { get; set; } = ServiceLifecycleStage.ApplicationServices;

    /// <summary>Serializer for state payloads. Left unset, it is the silo's <see cref="IGrainStorageSerializer"/> (JSON by default).</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
