namespace AgentTheater.Integration.Tests;

/// <summary>The SQLite provider behind real grains in a two-silo in-process cluster.</summary>
public sealed class SqliteGrainStorageTests(SqliteStorageClusterFixture fixture) : IClassFixture<SqliteStorageClusterFixture>
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task PersistentState_AfterDeactivation_ReadsBackWrittenState()
    {
        var grain = Grains.GetGrain<IStorageProbeGrain>($"deactivate-{Guid.NewGuid():N}");
        await grain.Add(3, "three");
        await grain.Add(4, "four");
        var before = await grain.Snapshot();

        await grain.Deactivate();
        await fixture.Cluster.WaitForDeactivationAsync(grain);
        var after = await grain.Snapshot();

        Assert.NotEqual(before.ActivationId, after.ActivationId);
        Assert.True(after.RecordExists);
        Assert.Equal(7, after.Total);
        Assert.Equal(["three", "four"], after.Entries);
    }

    [Fact]
    public async Task PersistentState_WrittenThroughSilo_IsStoredWithSilosJsonSerializer()
    {
        var grain = Grains.GetGrain<IStorageProbeGrain>($"json-{Guid.NewGuid():N}");
        await grain.Add(5, "five");

        var payload = SqliteStorageCluster.ReadPayload(fixture.DatabasePath, grain.GetGrainId());

        // The silo's default IGrainStorageSerializer is JSON; the provider did not pick its own.
        Assert.NotNull(payload);
        Assert.StartsWith("{", payload, StringComparison.Ordinal);
        Assert.Contains("\"five\"", payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteState_From200GrainsConcurrently_AllWritesLand()
    {
        var run = $"concurrent-{Guid.NewGuid():N}";
        var grains = Enumerable.Range(0, 200).Select(i => Grains.GetGrain<IStorageProbeGrain>($"{run}-{i}")).ToArray();

        // Each grain writes five times in a row; all 200 grains write at once, on both silos.
        await Task.WhenAll(grains.Select(async grain =>
        {
            for (var amount = 1; amount <= 5; amount++)
            {
                await grain.Add(amount, $"entry-{amount}");
            }
        }));

        Assert.Equal(200, SqliteStorageCluster.CountRows(fixture.DatabasePath, run));
        var placed = await Task.WhenAll(grains.Select(grain => grain.Snapshot()));

        // Grains landed on both silos, so two writers (two connections) shared the file.
        Assert.Equal(2, placed.Select(snapshot => snapshot.Silo).Distinct().Count());

        await Task.WhenAll(grains.Select(grain => fixture.Cluster.DeactivateAsync(grain)));
        var snapshots = await Task.WhenAll(grains.Select(grain => grain.Snapshot()));
        Assert.All(snapshots, snapshot =>
        {
            Assert.True(snapshot.RecordExists);
            Assert.Equal(15, snapshot.Total);
            Assert.Equal(5, snapshot.Entries.Count);
        });
    }

    [Fact]
    public async Task ClearState_FromGrain_RemovesRow()
    {
        var key = $"clear-{Guid.NewGuid():N}";
        var grain = Grains.GetGrain<IStorageProbeGrain>(key);
        await grain.Add(9, "nine");
        Assert.Equal(1, SqliteStorageCluster.CountRows(fixture.DatabasePath, key));

        await grain.Clear();

        Assert.Equal(0, SqliteStorageCluster.CountRows(fixture.DatabasePath, key));
        await fixture.Cluster.DeactivateAsync(grain);
        var after = await grain.Snapshot();
        Assert.False(after.RecordExists);
        Assert.Equal(0, after.Total);
        Assert.Empty(after.Entries);
    }
}

/// <summary>State that outlives the whole cluster.</summary>
public sealed class SqliteGrainStorageRestartTests
{
    [Fact]
    public async Task PersistentState_AfterClusterRestart_ReadsBackWrittenState()
    {
        using var directory = new TempDirectory();
        var databasePath = directory.File("restart.db");
        var keys = Enumerable.Range(0, 20).Select(i => $"restart-{Guid.NewGuid():N}-{i}").ToArray();

        var first = SqliteStorageCluster.Build(databasePath);
        await first.DeployAsync(TestContext.Current.CancellationToken);
        await Task.WhenAll(keys.Select((key, i) => first.Client.GetGrain<IStorageProbeGrain>(key).Add(i + 1, key)));
        await first.StopAllSilosAsync(TestContext.Current.CancellationToken);
        await first.DisposeAsync();

        // A new cluster (new ServiceId and ClusterId) on the same file.
        var second = SqliteStorageCluster.Build(databasePath, silos: 1);
        await second.DeployAsync(TestContext.Current.CancellationToken);
        try
        {
            var snapshots = await Task.WhenAll(keys.Select(key => second.Client.GetGrain<IStorageProbeGrain>(key).Snapshot()));
            for (var i = 0; i < keys.Length; i++)
            {
                Assert.True(snapshots[i].RecordExists);
                Assert.Equal(i + 1, snapshots[i].Total);
                Assert.Equal([keys[i]], snapshots[i].Entries);
            }
        }
        finally
        {
            await second.StopAllSilosAsync(TestContext.Current.CancellationToken);
            await second.DisposeAsync();
        }
    }
}
