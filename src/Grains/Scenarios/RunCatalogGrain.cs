using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Grains.Scenarios;

/// <summary>State of the run catalogue.</summary>
[GenerateSerializer, Alias("AgentTheater.RunCatalogState")]
public sealed class RunCatalogState
{
    /// <summary>Every run, in the order they started.</summary>
    [Id(0)] public List<RunEntry> Runs { get; set; } = [];
}

/// <summary>
/// The runs a cluster has started, for listing (<c>GET /api/runs</c>). A run's own grain holds everything else; the
/// catalogue holds one small entry per run.
/// </summary>
internal sealed class RunCatalogGrain(
    [PersistentState("runs", TheaterStorage.Name)] IPersistentState<RunCatalogState> state) : Grain, IRunCatalogGrain
{
    public async Task Add(RunEntry run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (state.State.Runs.Any(r => r.RunId == run.RunId))
        {
            return;
        }

        state.State.Runs.Add(run);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<RunEntry>> List() => Task.FromResult<IReadOnlyList<RunEntry>>([.. state.State.Runs]);
}
