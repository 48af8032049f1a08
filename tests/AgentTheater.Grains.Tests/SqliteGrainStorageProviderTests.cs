using AgentTheater.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace AgentTheater.Grains.Tests;

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
