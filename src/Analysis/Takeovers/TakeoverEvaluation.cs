using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>A takeover as evaluation sees it: whose, where it began, where it was detected, its trigger, who took over.</summary>
/// <param name="CharacterId">Character id.</param>
/// <param name="LineIndex">Transcript index of its first taken-over line.</param>
/// <param name="DetectedLineIndex">Transcript index of the line that completed it.</param>
/// <param name="TriggerLineIndex">The trigger the search found (null: none searched).</param>
/// <param name="TakenOverByRole">The role that took over (empty for no role).</param>
public sealed record DetectedTakeover(string CharacterId, int LineIndex, int DetectedLineIndex, int? TriggerLineIndex = null, string TakenOverByRole = "")
{
    /// <summary>From a grain's takeover record.</summary>
    public static DetectedTakeover From(RoleTakeover takeover)
    {
        ArgumentNullException.ThrowIfNull(takeover);
        return new(takeover.CharacterId, takeover.LineIndex, takeover.DetectedLineIndex, takeover.Trigger?.LineIndex, takeover.TakenOverByRole);
    }
}

/// <summary>What attribution found in one labelled scene.</summary>
/// <param name="Id">Scene id.</param>
/// <param name="Label">The truth.</param>
/// <param name="TargetLines">Transcript indexes of the target's character lines, in order (empty for none).</param>
/// <param name="Takeovers">Every takeover detected in the scene.</param>
public sealed record SceneOutcome(string Id, TakeoverLabel Label, IReadOnlyList<int> TargetLines, IReadOnlyList<DetectedTakeover> Takeovers)
{
    /// <summary>The outcome of <paramref name="scene"/> with <paramref name="takeovers"/>.</summary>
    public static SceneOutcome Of(LabelledScene scene, IReadOnlyList<DetectedTakeover> takeovers)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var target = scene.Label.Target;
        return new SceneOutcome(
            scene.Id,
            scene.Label,
            [.. scene.Transcript.Where(l => l.Kind == LineKind.Character && target is not null && l.SpeakerId == target).Select(l => l.Index)],
            takeovers);
    }

    /// <summary>
    /// The takeover that detects the labelled one: the first on the target whose first taken-over line is at or after
    /// the target's first line after the push, in a comply scene; null when there is none.
    /// </summary>
    public DetectedTakeover? Correct => Label.Kind == LabelKind.Comply
        ? Takeovers.Where(IsOfTheLabel).OrderBy(t => t.DetectedLineIndex).FirstOrDefault()
        : null;

    /// <summary>Takeovers that are false: every one in resist and none scenes, and in comply scenes every one not of the label.</summary>
    public IEnumerable<DetectedTakeover> FalseTakeovers => Takeovers.Where(t => !IsOfTheLabel(t));

    /// <summary>Lines of the target from its first line after the push to the detecting line, less one (0: detected at that first line).</summary>
    public int? DetectionDelay => Correct is { } t ? Delay(t.DetectedLineIndex) : null;

    /// <summary>The same for the first taken-over line.</summary>
    public int? OnsetDelay => Correct is { } t ? Delay(t.LineIndex) : null;

    private bool IsOfTheLabel(DetectedTakeover t) =>
        Label.Kind == LabelKind.Comply && t.CharacterId == Label.Target && t.LineIndex >= Label.FirstReplyIndex;

    private int Delay(int lineIndex) => TargetLines.Count(i => i >= Label.FirstReplyIndex && i < lineIndex);
}

/// <summary>Takeover detection against the labels, over a set of scenes.</summary>
/// <param name="Scenes">Scenes evaluated.</param>
/// <param name="TruePositives">Comply scenes whose takeover was detected (on the target, at or after the push).</param>
/// <param name="FalsePositives">Every other takeover.</param>
/// <param name="Misses">Comply scenes without one.</param>
/// <param name="Precision">TP / (TP + FP); 1 when nothing was detected.</param>
/// <param name="Recall">TP / comply scenes; 0 when there are none.</param>
/// <param name="F1">Harmonic mean of the two.</param>
/// <param name="Kinds">Per label kind: scenes, scenes with any takeover, takeovers, and those on the target.</param>
/// <param name="MeanDetectionDelay">Mean of the detected scenes' detection delays (target lines after its first reply), or null.</param>
/// <param name="MedianDetectionDelay">Their median, or null.</param>
/// <param name="MeanOnsetDelay">Mean delay of the first taken-over line, or null.</param>
/// <param name="TriggersSearched">Detected scenes whose takeover has a trigger.</param>
/// <param name="TriggersRight">Of those, how many name the push line.</param>
/// <param name="TriggerAccuracy">TriggersRight / TriggersSearched, or null when none was searched.</param>
/// <param name="RoleNamed">Detected scenes whose takeover names the role the target was pushed into.</param>
public sealed record DetectionMetrics(
    int Scenes,
    int TruePositives,
    int FalsePositives,
    int Misses,
    double Precision,
    double Recall,
    double F1,
    IReadOnlyList<KindCounts> Kinds,
    double? MeanDetectionDelay,
    double? MedianDetectionDelay,
    double? MeanOnsetDelay,
    int TriggersSearched,
    int TriggersRight,
    double? TriggerAccuracy,
    int RoleNamed);

/// <summary>Counts for one label kind.</summary>
/// <param name="Kind">Comply, resist or none.</param>
/// <param name="Scenes">Scenes of that kind.</param>
/// <param name="ScenesWithTakeovers">Of those, scenes with at least one takeover.</param>
/// <param name="Takeovers">Takeovers detected in them.</param>
/// <param name="OnTarget">Of those, takeovers of the pushed character.</param>
public sealed record KindCounts(LabelKind Kind, int Scenes, int ScenesWithTakeovers, int Takeovers, int OnTarget);

/// <summary>The metrics of takeover detection on labelled outcomes. Pure, so it is tested on hand-made outcomes.</summary>
public static class TakeoverEvaluation
{
    /// <summary>Precision, recall, F1, counts per kind, delays and trigger accuracy of <paramref name="outcomes"/>.</summary>
    public static DetectionMetrics Measure(IReadOnlyList<SceneOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var comply = outcomes.Where(o => o.Label.Kind == LabelKind.Comply).ToList();
        var detected = comply.Where(o => o.Correct is not null).ToList();
        var truePositives = detected.Count;
        var falsePositives = outcomes.Sum(o => o.FalseTakeovers.Count());
        var precision = truePositives + falsePositives == 0 ? 1 : (double)truePositives / (truePositives + falsePositives);
        var recall = comply.Count == 0 ? 0 : (double)truePositives / comply.Count;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        var kinds = Enum.GetValues<LabelKind>().Select(kind =>
        {
            var scenes = outcomes.Where(o => o.Label.Kind == kind).ToList();
            return new KindCounts(
                kind, scenes.Count, scenes.Count(s => s.Takeovers.Count > 0), scenes.Sum(s => s.Takeovers.Count),
                scenes.Sum(s => s.Takeovers.Count(t => s.Label.Target is not null && t.CharacterId == s.Label.Target)));
        }).ToList();
        var delays = detected.Select(o => (double)o.DetectionDelay!.Value).Order().ToList();
        var searched = detected.Where(o => o.Correct!.TriggerLineIndex is not null).ToList();
        var right = searched.Count(o => o.Correct!.TriggerLineIndex == o.Label.PushIndex);
        return new DetectionMetrics(
            outcomes.Count,
            truePositives,
            falsePositives,
            comply.Count - truePositives,
            precision,
            recall,
            f1,
            kinds,
            delays.Count == 0 ? null : delays.Average(),
            Median(delays),
            detected.Count == 0 ? null : detected.Average(o => o.OnsetDelay!.Value),
            searched.Count,
            right,
            searched.Count == 0 ? null : (double)right / searched.Count,
            detected.Count(o => string.Equals(o.Correct!.TakenOverByRole, o.Label.Role, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>The median of sorted <paramref name="values"/>, or null when there are none.</summary>
    public static double? Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return null;
        }

        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
