using AgentTheater.Contracts.Cluster;
using AgentTheater.Grains.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace AgentTheater.Grains.Cluster;

/// <summary>
/// Reports the silo it runs on. A stateless worker, so each silo answers for itself when the caller names it as the
/// placement hint; the report says which silo answered, so the caller can tell.
/// </summary>
[StatelessWorker(1)]
internal sealed class SiloReportGrain(
    ILocalSiloDetails silo,
    IOptions<SiloMetadata> metadata,
    ISiloMetadataCache metadataCache,
    IClusterMembershipService membership,
    InferencePoolTelemetry poolTelemetry) : Grain, ISiloReportGrain
{
    public Task<SiloReport> GetReport()
    {
        // Where this silo would place the inference grain now (the placement filter's own rule).
        var filter = new InferenceSiloPlacementFilterDirector(silo, metadataCache, metadata);
        var inferenceSilos = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && filter.HostsInference(m.SiloAddress))
            .Select(m => m.SiloAddress.ToParsableString())
            .Order(StringComparer.Ordinal)
            .ToList();

        // The pool as the silo's start loaded it: a silo without a model reports none, and asking loads nothing.
        var pool = poolTelemetry.Pool;
        var stats = pool?.Statistics;
        return Task.FromResult(new SiloReport(
            silo.SiloAddress.ToParsableString(),
            metadata.Value.Metadata.ToDictionary(StringComparer.Ordinal),
            pool is null || stats is null
                ? null
                : new PoolLoad(
                    Path.GetFileName(pool.Model.Path),
                    pool.MaxSequences,
                    stats.Running,
                    stats.InFlight,
                    stats.Queued,
                    stats.GeneratedTokens,
                    stats.PrefillTokens,
                    stats.PrefixReuseRatio),
            inferenceSilos));
    }
}
