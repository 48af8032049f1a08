using AgentTheater.Grains.Storage;
using Microsoft.Data.Sqlite;
using Orleans.TestingHost;

namespace AgentTheater.Integration.Tests;

/// <summary>Builds in-process clusters whose silos keep grain state in one SQLite file.</summary>
public static class SqliteStorageCluster
{
    public static InProcessTestCluster Build(string databasePath, short silos = 2)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
            silo.AddSqliteGrainStorage(StorageProbeGrain.StorageName, options => options.DatabasePath = databasePath));
        return builder.Build();
    }

    /// <summary>Rows of the probe state whose grain id contains <paramref name="keyPart"/>, read straight from the file.</summary>
    public static long CountRows(string databasePath, string keyPart)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM grain_state WHERE state_name = $state_name AND instr(grain_id, $key_part) > 0;";
        command.Parameters.AddWithValue("$state_name", StorageProbeGrain.StateName);
        command.Parameters.AddWithValue("$key_part", keyPart);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The stored payload of one probe grain, as text.</summary>
    public static string? ReadPayload(string databasePath, GrainId grainId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE state_name = $state_name AND grain_id = $grain_id;";
        command.Parameters.AddWithValue("$state_name", StorageProbeGrain.StateName);
        command.Parameters.AddWithValue("$grain_id", grainId.ToString());
        return command.ExecuteScalar() is byte[] payload ? System.Text.Encoding.UTF8.GetString(payload) : null;
    }
}

/// <summary>One two-silo cluster shared by the tests of a class; each test uses its own grain keys.</summary>
public sealed class SqliteStorageClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    public SqliteStorageClusterFixture() => DatabasePath = _directory.File("grain-state.db");

    public string DatabasePath { get; }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = SqliteStorageCluster.Build(DatabasePath);
        await Cluster.DeployAsync();

        // Placement only chooses among silos the receiving silo sees as active; wait until both are.
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        for (var attempt = 0; (await management.GetHosts(onlyActive: true)).Count < 2; attempt++)
        {
            if (attempt == 300)
            {
                throw new TimeoutException("The second silo did not become active within 30 s.");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _directory.Dispose();
    }
}
