using Orleans.Placement;

namespace AgentTheater.Integration.Tests;

/// <summary>What a probe grain holds now, and which activation on which silo answered.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeSnapshot(
    [property: Id(0)] int Total,
    [property: Id(1)] IReadOnlyList<string> Entries,
    [property: Id(2)] bool RecordExists,
    [property: Id(3)] Guid ActivationId,
    [property: Id(4)] string Silo);

/// <summary>A grain whose only job is to keep <see cref="ProbeState"/> in the SQLite provider under test.</summary>
public interface IStorageProbeGrain : IGrainWithStringKey
{
    Task<int> Add(int amount, string entry);

    Task<ProbeSnapshot> Snapshot();

    Task Clear();

    Task Deactivate();
}

/// <remarks>Placed at random, so the concurrency test's grains land on both silos (the default placement may keep them all on one).</remarks>
[RandomPlacement]
public sealed class StorageProbeGrain(
    [PersistentState(StorageProbeGrain.StateName, StorageProbeGrain.StorageName)] IPersistentState<ProbeState> state)
    : Grain, IStorageProbeGrain
{
    public const string StateName = "probe";
    public const string StorageName = "sqlite-test";

    private readonly Guid _activationId = Guid.NewGuid();

    public async Task<int> Add(int amount, string entry)
    {
        state.State.Total += amount;
        state.State.Entries.Add(entry);
        await state.WriteStateAsync();
        return state.State.Total;
    }

    public Task<ProbeSnapshot> Snapshot() =>
        Task.FromResult(new ProbeSnapshot(state.State.Total, [.. state.State.Entries], state.RecordExists, _activationId, RuntimeIdentity));

    public Task Clear() => state.ClearStateAsync();

    public Task Deactivate()
    {
        this.DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
