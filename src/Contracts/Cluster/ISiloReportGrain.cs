namespace AgentTheater.Contracts.Cluster;

/// <summary>
/// What one silo declares and carries: its metadata and, on a silo that hosts the inference pool, the pool's load.
/// Key: the silo's address (<c>SiloAddress.ToParsableString()</c>); call it with that silo as the placement hint so the
/// activation that answers runs there.
/// </summary>
public interface ISiloReportGrain : IGrainWithStringKey
{
    /// <summary>This silo's report.</summary>
    Task<SiloReport> GetReport();
}

/// <summary>One silo's metadata and pool load.</summary>
/// <param name="Silo">Address of the silo that answered.</param>
/// <param name="Metadata">Silo metadata it publishes (e.g. <c>gpu=true</c>, <c>model=...</c>).</param>
/// <param name="Pool">The inference pool's figures; null on a silo without a model or whose pool has not loaded yet.</param>
/// <param name="InferenceSilos">
/// The active silos this silo would place the inference grain on now: those whose metadata it knows names a model.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SiloReport")]
public sealed record SiloReport(
    [property: Id(0)] string Silo,
    [property: Id(1)] IReadOnlyDictionary<string, string> Metadata,
    [property: Id(2)] PoolLoad? Pool,
    [property: Id(3)] IReadOnlyList<string> InferenceSilos);

/// <summary>Load of one silo's inference pool.</summary>
/// <param name="Model">Model file.</param>
/// <param name="Sequences">Sequences (KV slots) in the pool.</param>
/// <param name="Running">Requests holding a sequence now.</param>
/// <param name="InFlight">Requests queued or running now.</param>
/// <param name="Requests">Requests accepted since the pool loaded.</param>
/// <param name="GeneratedTokens">Tokens generated since the pool loaded.</param>
/// <param name="PrefillTokens">Prompt tokens decoded since the pool loaded.</param>
/// <param name="PrefixReuseRatio">Share of prompt tokens served from cached prefixes.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.PoolLoad")]
public sealed record PoolLoad(
    [property: Id(0)] string Model,
    [property: Id(1)] int Sequences,
    [property: Id(2)] long Running,
    [property: Id(3)] long InFlight,
    [property: Id(4)] long Requests,
    [property: Id(5)] long GeneratedTokens,
    [property: Id(6)] long PrefillTokens,
    [property: Id(7)] double PrefixReuseRatio);
