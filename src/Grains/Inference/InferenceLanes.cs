using System.Text.RegularExpressions;
using AgentTheater.Contracts.Inference;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// Which inference grain a session talks to. The inference grain is a stateless worker kept to silos with a model: a
/// caller on such a silo uses its own pool, and a caller elsewhere has each lane (grain key) placed on one of them. A
/// session keeps its lane, so its requests keep reaching the pool that caches its prefix, and the sessions of a silo
/// without a model spread across every silo that has one.
/// </summary>
public static partial class InferenceLanes
{
    /// <summary>Lanes in all: enough that a few GPU silos each get several.</summary>
    public const int Count = 16;

    /// <summary>The inference grain of <paramref name="session"/>'s lane (lane 0 without a session).</summary>
    public static IInferenceGrain Inference(this IGrainFactory grains, string? session) =>
        grains.GetGrain<IInferenceGrain>(session is null ? 0 : Lane(session));

    /// <summary>
    /// A hash that is the same in every process (string.GetHashCode is not), FNV-1a over the UTF-16 code units. Branch
    /// markers (<c>~{fork}.{branch}</c> in a forked scene's key) are left out, so a branch's sessions share the lane of
    /// the sessions they were copied from, and reach the pool that holds the copies.
    /// </summary>
    public static int Lane(string session)
    {
        var hash = 2166136261u;
        foreach (var c in BranchMarker().Replace(session, string.Empty))
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (int)(hash % Count);
    }

    [GeneratedRegex(@"~\d+\.\d+")]
    private static partial Regex BranchMarker();
}
