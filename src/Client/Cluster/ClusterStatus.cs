using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Cluster;
using Orleans.Runtime.Placement;

namespace AgentTheater.Client.Cluster;

/// <summary>One silo as <c>cluster status</c> shows it.</summary>
/// <param name="Address">Silo address.</param>
/// <param name="Name">Silo name.</param>
/// <param name="Status">Membership status.</param>
/// <param name="Metadata">Silo metadata it publishes; null when its report did not come back.</param>
/// <param name="Activations">Grain activations on it.</param>
/// <param name="Characters">Character grain activations.</param>
/// <param name="Scenes">Scene grain activations.</param>
/// <param name="Pool">Its inference pool's load; null without a loaded pool.</param>
/// <param name="InferenceSilos">How many silos it would place inference on now; null when its report did not come back.</param>
internal sealed record SiloStatusRow(
    string Address,
    string Name,
    string Status,
    IReadOnlyDictionary<string, string>? Metadata,
    int Activations,
    int Characters,
    int Scenes,
    PoolLoad? Pool,
    int? InferenceSilos);

/// <summary>The silos of a cluster: membership and grain counts from Orleans' management grain, metadata and pool load from each silo.</summary>
internal static class ClusterStatus
{
    public static async Task<IReadOnlyList<SiloStatusRow>> ReadAsync(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var statistics = await management.GetSimpleGrainStatistics();
        var rows = new List<SiloStatusRow>();
        foreach (var host in hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal))
        {
            var own = statistics.Where(s => s.SiloAddress.Equals(host.SiloAddress)).ToList();
            var report = await ReportAsync(grains, host.SiloAddress);
            rows.Add(new SiloStatusRow(
                host.SiloAddress.ToString(),
                host.SiloName,
                host.Status.ToString(),
                report?.Metadata,
                own.Sum(s => s.ActivationCount),
                own.Where(s => IsType(s.GrainType, "CharacterGrain")).Sum(s => s.ActivationCount),
                own.Where(s => IsType(s.GrainType, "SceneGrain")).Sum(s => s.ActivationCount),
                report?.Pool,
                report?.InferenceSilos.Count));
        }

        return rows;
    }

    public static string Table(IReadOnlyList<SiloStatusRow> rows)
    {
        var text = new StringBuilder("""
            | silo | name | status | metadata | activations | characters | scenes | sees inference on | pool |
            |---|---|---|---|---:|---:|---:|---:|---|

            """);
        foreach (var row in rows)
        {
            var metadata = row.Metadata switch
            {
                null => "(no report)",
                { Count: 0 } => "-",
                var pairs => string.Join(" ", pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
            };
            var pool = row.Pool is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"{p.Model}: {p.Running}/{p.Sequences} sequences running, {p.InFlight} in flight, {p.Requests:N0} requests, {p.GeneratedTokens:N0} tokens generated, {p.PrefixReuseRatio:P0} prefix reuse")
                : "-";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Address} | {row.Name} | {row.Status} | {metadata} | {row.Activations:N0} | {row.Characters:N0} | {row.Scenes:N0} | {(row.InferenceSilos is { } n ? n.ToString(CultureInfo.InvariantCulture) : "?")} | {pool} |\n");
        }

        return text.ToString();
    }

    /// <summary>The silo's own report: the report grain is a stateless worker, placed on the silo named by the hint.</summary>
    private static async Task<SiloReport?> ReportAsync(IGrainFactory grains, SiloAddress silo)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            var report = await grains.GetGrain<ISiloReportGrain>(silo.ToParsableString()).GetReport();
            return report.Silo == silo.ToParsableString() ? report : null;
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private static bool IsType(string grainType, string name) =>
        grainType.EndsWith(name, StringComparison.OrdinalIgnoreCase) || grainType.EndsWith(name + "]", StringComparison.OrdinalIgnoreCase);
}
