using AgentTheater.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace AgentTheater.Grains.Tests;

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

/// <summary>The provider called directly, without a silo, for ETag rules and row handling.</summary>
public sealed class SqliteGrainStorageProviderTests : IAsyncLifetime
{
    private static readonly GrainId Probe = GrainId.Create("probe", "direct");

    private readonly TempDirectory _directory = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private SqliteGrainStorage _storage = null!;

    public async ValueTask InitializeAsync()
    {
        // The silo's default serializer, built by hand: JSON over Newtonsoft.
        var serializer = new JsonGrainStorageSerializer(new OrleansJsonSerializer(Options.Create(new OrleansJsonSerializerOptions())));
        var options = new SqliteGrainStorageOptions { DatabasePath = _directory.File("direct.db"), GrainStorageSerializer = serializer };
        _storage = new SqliteGrainStorage("direct", options, _services.GetRequiredService<IActivatorProvider>(), NullLogger<SqliteGrainStorage>.Instance);
        await _storage.InitializeAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _storage.CloseAsync(CancellationToken.None);
        await _services.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>Grain state as a grain holds it: a total, its entries, and the ETag it last saw.</summary>
    private static GrainState<ProbeState> NewState(int total = 0, string? entry = null, string? etag = null) =>
        new GrainState<ProbeState>(new ProbeState { Total = total, Entries = entry is null ? [] : [entry] }, etag) { RecordExists = etag is not null };

    /// <summary>The state object a grain state holds, asserting there is one.</summary>
    private static ProbeState Held(GrainState<ProbeState> state) => Assert.IsType<ProbeState>(state.State);

    [Fact]
    public async Task ReadState_MissingRow_ReportsNoRecordAndDefaultState()
    {
        var state = NewState(42);

        await _storage.ReadStateAsync("missing", Probe, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, Held(state).Total);
    }

    [Fact]
    public async Task WriteState_ThenRead_ReturnsStateAndSameETag()
    {
        var written = NewState(7, "seven");
        await _storage.WriteStateAsync("roundtrip", Probe, written);

        var read = NewState();
        await _storage.ReadStateAsync("roundtrip", Probe, read);

        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(7, Held(read).Total);
        Assert.Equal(["seven"], Held(read).Entries);
    }

    [Fact]
    public async Task WriteState_WithStaleETag_ThrowsInconsistentStateExceptionAndKeepsNewerState()
    {
        var first = NewState(1);
        await _storage.WriteStateAsync("stale", Probe, first);
        var second = NewState();
        await _storage.ReadStateAsync("stale", Probe, second);
        Held(second).Total = 2;
        await _storage.WriteStateAsync("stale", Probe, second);

        Held(first).Total = 100;
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("stale", Probe, first));

        Assert.Equal(second.ETag, conflict.StoredEtag);
        Assert.Equal(first.ETag, conflict.CurrentEtag);
        var stored = NewState();
        await _storage.ReadStateAsync("stale", Probe, stored);
        Assert.Equal(2, Held(stored).Total);
    }

    [Fact]
    public async Task WriteState_WithoutETagWhenRowExists_ThrowsInconsistentStateException()
    {
        await _storage.WriteStateAsync("exists", Probe, NewState(1));

        var unaware = NewState(2);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("exists", Probe, unaware));
    }

    [Fact]
    public async Task ClearState_WithStaleETag_ThrowsInconsistentStateExceptionAndKeepsRow()
    {
        var first = NewState(1);
        await _storage.WriteStateAsync("clear-stale", Probe, first);
        var staleETag = first.ETag;
        await _storage.WriteStateAsync("clear-stale", Probe, first);
        var stale = NewState(etag: staleETag);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("clear-stale", Probe, stale));

        var stored = NewState();
        await _storage.ReadStateAsync("clear-stale", Probe, stored);
        Assert.True(stored.RecordExists);
    }

    [Fact]
    public async Task ClearState_WithCurrentETag_RemovesRowAndOldETagNoLongerMatches()
    {
        var state = NewState(3);
        await _storage.WriteStateAsync("clear", Probe, state);
        var oldETag = state.ETag;

        await _storage.ClearStateAsync("clear", Probe, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, Held(state).Total);
        var read = NewState();
        await _storage.ReadStateAsync("clear", Probe, read);
        Assert.False(read.RecordExists);

        // Recreated rows get fresh ETags, so a writer holding the pre-clear ETag still conflicts.
        await _storage.WriteStateAsync("clear", Probe, NewState(4));
        var holder = NewState(etag: oldETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("clear", Probe, holder));
    }

    [Fact]
    public async Task WriteState_ManyConcurrentCallers_EachGetsItsOwnRow()
    {
        var states = Enumerable.Range(0, 500).Select(i => NewState(i)).ToArray();

        await Task.WhenAll(states.Select((state, i) => _storage.WriteStateAsync("many", GrainId.Create("probe", $"many-{i}"), state)));

        for (var i = 0; i < states.Length; i++)
        {
            var read = NewState();
            await _storage.ReadStateAsync("many", GrainId.Create("probe", $"many-{i}"), read);
            Assert.Equal(i, Held(read).Total);
            Assert.Equal(states[i].ETag, read.ETag);
        }
    }
}

/// <summary>Option checks that run when the silo starts.</summary>
public sealed class SqliteGrainStorageOptionsValidatorTests
{
    [Fact]
    public void ValidateConfiguration_DirectoryCannotBeCreated_ThrowsNamingOptionAndPath()
    {
        using var directory = new TempDirectory();
        var blocker = directory.File("a-file");
        File.WriteAllText(blocker, "not a directory");
        var databasePath = Path.Combine(blocker, "nested", "state.db");
        var options = new SqliteGrainStorageOptions { DatabasePath = databasePath, GrainStorageSerializer = new NoSerializer() };

        var error = Assert.Throws<OrleansConfigurationException>(() => new SqliteGrainStorageOptionsValidator(options, "scenes").ValidateConfiguration());

        Assert.Contains("DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains(databasePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("'scenes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateConfiguration_EmptyPath_ThrowsRequired()
    {
        var options = new SqliteGrainStorageOptions { GrainStorageSerializer = new NoSerializer() };

        var error = Assert.Throws<OrleansConfigurationException>(() => new SqliteGrainStorageOptionsValidator(options, "scenes").ValidateConfiguration());

        Assert.Contains("DatabasePath is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateConfiguration_MissingNestedDirectory_CreatesIt()
    {
        using var directory = new TempDirectory();
        var nested = Path.Combine(directory.Path, "one", "two");
        var options = new SqliteGrainStorageOptions { DatabasePath = Path.Combine(nested, "state.db"), GrainStorageSerializer = new NoSerializer() };

        new SqliteGrainStorageOptionsValidator(options, "scenes").ValidateConfiguration();

        Assert.True(Directory.Exists(nested));
    }

    /// <summary>The validator only checks that a serializer is set; it never calls it.</summary>
    private sealed class NoSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => throw new NotSupportedException();

        public T Deserialize<T>(BinaryData input) => throw new NotSupportedException();
    }
}
