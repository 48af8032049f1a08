using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace AgentTheater.Grains.Cluster;

/// <summary>
/// Keeps a grain type to the silos that host the inference pool: those whose silo metadata names a model
/// (<see cref="TheaterSiloMetadata.Model"/>). Unlike Orleans' <c>RequiredMatchSiloMetadata</c> filter, which keeps silos
/// whose metadata matches the calling silo's, this looks at the candidate alone, so a caller on a silo without a model
/// still reaches a silo that has one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class InferenceSiloPlacementFilterAttribute() : PlacementFilterAttribute(new InferenceSiloPlacementFilterStrategy());

/// <summary>The strategy behind <see cref="InferenceSiloPlacementFilterAttribute"/> (no settings: the rule is fixed).</summary>
public sealed class InferenceSiloPlacementFilterStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>Applies <see cref="InferenceSiloPlacementFilterStrategy"/>: silos whose metadata names a model.</summary>
internal sealed class InferenceSiloPlacementFilterDirector(
    ILocalSiloDetails localSilo, ISiloMetadataCache metadataCache, IOptions<SiloMetadata> localMetadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        silos.Where(HostsInference);

    /// <summary>
    /// True when <paramref name="silo"/> has a model, as far as this silo knows: the cache learns every silo's metadata
    /// from membership updates a moment after it joins (a silo it could not ask yet counts as without a model until it
    /// can); this silo's own is known from the start.
    /// </summary>
    public bool HostsInference(SiloAddress silo)
    {
        var metadata = silo.Equals(localSilo.SiloAddress) ? localMetadata.Value : metadataCache.GetSiloMetadata(silo);
        return metadata.Metadata.TryGetValue(TheaterSiloMetadata.Model, out var model) && !string.IsNullOrEmpty(model);
    }
}
