using AgentTheater.Contracts.Attribution;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>One character forced to play another role (<c>play_as</c>) in one scene, and what detection made of it.</summary>
/// <param name="SceneKey">Scene key.</param>
/// <param name="CharacterId">Character id.</param>
/// <param name="Role">The role its lines were generated as.</param>
/// <param name="FromTurn">Turn of its first forced line.</param>
/// <param name="ForcedLines">Its forced lines.</param>
/// <param name="DetectedTurn">Turn at which the takeover was detected (null: not detected).</param>
/// <param name="Delay">Its forced lines before the detecting line (0: detected at the first forced line).</param>
/// <param name="NamedRole">The role the takeover names.</param>
public sealed record ForcedCase(string SceneKey, string CharacterId, string Role, int FromTurn, int ForcedLines, int? DetectedTurn, int? Delay, string? NamedRole)
{
    /// <summary>The takeover names the forced role.</summary>
    public bool RoleRight => string.Equals(NamedRole, Role, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Detection of forced takeovers over a run.</summary>
/// <param name="Forced">Characters forced (scene by scene) that spoke at least one forced line.</param>
/// <param name="Detected">Of those, detected: a takeover beginning at or after the first forced line.</param>
/// <param name="DetectionRate">Detected / forced.</param>
/// <param name="MeanDelay">Mean delay in forced lines, or null.</param>
/// <param name="MedianDelay">Median delay, or null.</param>
/// <param name="RoleNamed">Detected takeovers that name the forced role.</param>
/// <param name="EarlyTakeovers">Takeovers of forced characters that began before their first forced line.</param>
/// <param name="UnforcedCharacters">Characters (scene by scene) never forced.</param>
/// <param name="FalseTakeovers">Takeovers of those.</param>
/// <param name="Cases">Every forced character.</param>
public sealed record ForcedMetrics(
    int Forced,
    int Detected,
    double DetectionRate,
    double? MeanDelay,
    double? MedianDelay,
    int RoleNamed,
    int EarlyTakeovers,
    int UnforcedCharacters,
    int FalseTakeovers,
    IReadOnlyList<ForcedCase> Cases);

/// <summary>
/// Forced takeovers are labelled without judgement: a line's <see cref="LineAttribution.GeneratedAs"/> says it was
/// generated as another role. Pure, from a run's attribution records and takeovers.
/// </summary>
public static class ForcedTakeoverEvaluation
{
    /// <summary>Detection rate, delay and named role of every forced character; false takeovers of the others.</summary>
    public static ForcedMetrics Measure(IReadOnlyList<LineAttribution> lines, IReadOnlyList<RoleTakeover> takeovers)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(takeovers);
        var cases = new List<ForcedCase>();
        int early = 0, unforced = 0, falseTakeovers = 0;
        foreach (var character in lines.GroupBy(l => (l.SceneKey, l.CharacterId)))
        {
            var own = takeovers.Where(t => t.SceneKey == character.Key.SceneKey && t.CharacterId == character.Key.CharacterId).ToList();
            var forced = character.Where(l => l.GeneratedAs is not null).OrderBy(l => l.Index).ToList();
            if (forced.Count == 0)
            {
                unforced++;
                falseTakeovers += own.Count;
                continue;
            }

            var first = forced[0];
            early += own.Count(t => t.LineIndex < first.Index);
            var hit = own.Where(t => t.LineIndex >= first.Index).OrderBy(t => t.DetectedLineIndex).FirstOrDefault();
            cases.Add(new ForcedCase(
                character.Key.SceneKey, character.Key.CharacterId, first.GeneratedAs!, first.Turn, forced.Count,
                hit?.DetectedTurn, hit is null ? null : forced.Count(l => l.Index < hit.DetectedLineIndex), hit?.TakenOverByRole));
        }

        var delays = cases.Where(c => c.Delay is not null).Select(c => (double)c.Delay!.Value).Order().ToList();
        var detected = cases.Count(c => c.DetectedTurn is not null);
        return new ForcedMetrics(
            cases.Count,
            detected,
            cases.Count == 0 ? 0 : (double)detected / cases.Count,
            delays.Count == 0 ? null : delays.Average(),
            TakeoverEvaluation.Median(delays),
            cases.Count(c => c.DetectedTurn is not null && c.RoleRight),
            early,
            unforced,
            falseTakeovers,
            cases);
    }
}
