using AgentTheater.Grains.Scenes;
using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>A run's takeovers for people: a table, and transcripts with takeover, trigger and recovery markers.</summary>
public static class TakeoverReport
{
    private const int RoleWidth = 40;
    private const int TextWidth = 48;

    /// <summary>One row per takeover: scene, character, turn, from -> to, posterior, trigger line, recovery.</summary>
    public static string Table(IReadOnlyList<RoleTakeover> takeovers, IReadOnlyList<LineAttribution>? lines)
    {
        ArgumentNullException.ThrowIfNull(takeovers);
        var text = new StringBuilder();
        var attributed = lines is null ? "" : string.Create(CultureInfo.InvariantCulture, $" ({lines.Count:N0} character lines attributed)");
        if (takeovers.Count == 0)
        {
            return $"No takeovers{attributed}.\n";
        }

        text.Append("| scene | character | turn | from -> to | posterior | trigger line | recovered |\n");
        text.Append("|---|---|---:|---|---:|---|---|\n");
        foreach (var t in takeovers)
        {
            var recovered = t.RecoveredTurn is { } turn ? string.Create(CultureInfo.InvariantCulture, $"turn {turn}") : "no";
            text.Append(CultureInfo.InvariantCulture, $"| {Scene(t.SceneKey)} | {Cell(t.Character)} | {t.Turn} | {Cell(Short(t.AssignedRole))} -> {Cell(Taker(t))} | {t.Posterior:F3} | {Cell(Trigger(t.Trigger))} | {recovered} |\n");
        }

        var scenes = takeovers.Select(t => t.SceneKey).Distinct().Count();
        text.Append(CultureInfo.InvariantCulture, $"\n{Count(takeovers.Count, "takeover")} in {Count(scenes, "scene")}{attributed}.\n");
        return text.ToString();
    }

    /// <summary>Every scene's transcript with each character line's assigned-role posterior and the takeover markers.</summary>
    public static string Transcripts(
        IReadOnlyList<(string Name, IReadOnlyList<SceneLine> Lines)> scenes, IReadOnlyList<RoleTakeover> takeovers, IReadOnlyList<LineAttribution>? lines)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentNullException.ThrowIfNull(takeovers);
        var text = new StringBuilder();
        foreach (var (name, transcript) in scenes)
        {
            var sceneTakeovers = takeovers.Where(t => SceneFiles.Name(t.SceneKey) == name).ToList();
            var attribution = (lines ?? []).Where(l => SceneFiles.Name(l.SceneKey) == name).ToDictionary(l => l.Index);
            text.Append(CultureInfo.InvariantCulture, $"## {name}\n\n");
            foreach (var line in transcript)
            {
                foreach (var t in sceneTakeovers.Where(t => t.LineIndex == line.Index))
                {
                    text.Append(CultureInfo.InvariantCulture,
                        $">>> TAKEOVER {t.Character}: {Short(t.AssignedRole)} -> {Taker(t)} (assigned posterior {t.Posterior:F3}, {t.TakenOverBy} {t.TakerPosterior:F3}; detected at turn {t.DetectedTurn})\n");
                }

                foreach (var t in sceneTakeovers.Where(t => t.RecoveredLineIndex == line.Index))
                {
                    text.Append(CultureInfo.InvariantCulture, $"<<< RECOVERED {t.Character}: back to {Short(t.AssignedRole)} at turn {t.RecoveredTurn}\n");
                }

                text.Append(CultureInfo.InvariantCulture, $"{line.Index,3}. {Speaker(line)}: {(line.Text.Length == 0 ? "(says nothing)" : line.Text)}");
                if (attribution.TryGetValue(line.Index, out var scored))
                {
                    text.Append(CultureInfo.InvariantCulture, $"   [assigned {scored.AssignedPosterior:F3}, {Verdict(scored.Verdict)}");
                    if (scored.Best is { } best && best != "assigned")
                    {
                        text.Append(CultureInfo.InvariantCulture, $", best {best}");
                    }

                    if (scored.GeneratedAs is { } forced)
                    {
                        text.Append(CultureInfo.InvariantCulture, $", generated as {forced}");
                    }

                    text.Append(']');
                }

                foreach (var t in sceneTakeovers.Where(t => t.Trigger?.LineIndex == line.Index))
                {
                    text.Append(CultureInfo.InvariantCulture, $"   <-- trigger of {t.Character}'s takeover ({t.Trigger!.Restoration:+0.000;-0.000;0.000})");
                }

                text.Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string Scene(string sceneKey) => string.Join('/', sceneKey.Split('/').Skip(1));

    private static string Taker(RoleTakeover t) => t.TakenOverByKind switch
    {
        HypothesisKind.Neutral => "no role",
        HypothesisKind.Character => $"{Short(t.TakenOverByRole)} ({t.TakenOverBy})",
        _ => Short(t.TakenOverByRole),
    };

    private static string Trigger(TakeoverTrigger? trigger)
    {
        if (trigger is null)
        {
            return "-";
        }

        var what = trigger.Intervention ? " (intervention)" : "";
        return string.Create(CultureInfo.InvariantCulture, $"#{trigger.LineIndex} {trigger.Speaker}{what}: \"{Short(trigger.Text, TextWidth)}\" ({trigger.Restoration:+0.000;-0.000;0.000})");
    }

    private static string Verdict(LineVerdict verdict) => verdict switch
    {
        LineVerdict.TakenOver => "taken over",
        LineVerdict.NoEvidence => "no evidence",
        _ => verdict.ToString().ToLowerInvariant(),
    };

    private static string Speaker(SceneLine line) => line.Kind switch
    {
        LineKind.Intervention => $"{line.Speaker} (intervention{(line.To is null ? "" : ", to " + line.To)})",
        _ => line.Speaker,
    };

    private static string Short(string text, int width = RoleWidth) => text.Length <= width ? text : text[..(width - 1)].TrimEnd() + "…";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Count(int count, string noun) => count == 1 ? $"1 {noun}" : string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}s");
}
