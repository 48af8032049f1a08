using AgentTheater.Contracts.Attribution;
using AgentTheater.Grains.Attribution;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>One setting of the detector and what it scores on a labelled set.</summary>
/// <param name="Sharpness">s in softmax(s × mean log-likelihood).</param>
/// <param name="Detector">Threshold, margin and consecutive lines.</param>
/// <param name="Metrics">Detection against the labels (no triggers: those need the model).</param>
public sealed record SweepPoint(double Sharpness, DetectorSettings Detector, DetectionMetrics Metrics);

/// <summary>
/// Calibration without rescoring: the detector is a pure function of each line's mean log-likelihoods, so any
/// sharpness, threshold, margin and run length can be replayed on recorded line attributions.
/// </summary>
public static class DetectorSweep
{
    /// <summary>The grid swept by default; it holds the shipped defaults (5, 0.1, 0.3, 2).</summary>
    public static readonly IReadOnlyList<double> Sharpnesses = [1, 2, 3, 5, 8, 12, 20];

    /// <summary>Thresholds swept.</summary>
    public static readonly IReadOnlyList<double> Thresholds = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3];

    /// <summary>Margins swept.</summary>
    public static readonly IReadOnlyList<double> Margins = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7];

    /// <summary>Run lengths swept.</summary>
    public static readonly IReadOnlyList<int> Runs = [1, 2, 3];

    /// <summary>
    /// The takeovers the detector finds in one scene's attributed lines at <paramref name="sharpness"/> and
    /// <paramref name="settings"/>: posteriors recomputed from the recorded mean log-likelihoods, each character's
    /// lines in transcript order, lines without evidence or whose scoring failed skipped (as the grain does).
    /// </summary>
    /// <remarks>
    /// With <paramref name="screenMargin"/>, the first stage is replayed too: a fully scored line whose assigned card
    /// beats no persona by at least that much, said by a character not taken over, keeps only those two scores (as
    /// the grain would have scored it), so lines recorded with screening off show what a screen margin would cost.
    /// </remarks>
    public static IReadOnlyList<DetectedTakeover> Replay(IEnumerable<LineAttribution> lines, double sharpness, DetectorSettings settings, double? screenMargin = null) =>
        ReplayCounting(lines, sharpness, settings, screenMargin).Takeovers;

    /// <summary><see cref="Replay"/>, also counting the lines the first stage held (recorded so, or replayed).</summary>
    public static (IReadOnlyList<DetectedTakeover> Takeovers, int Screened) ReplayCounting(
        IEnumerable<LineAttribution> lines, double sharpness, DetectorSettings settings, double? screenMargin = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var screened = 0;
        var detector = new TakeoverDetector(settings);
        var tracks = new Dictionary<string, RoleTrack>(StringComparer.Ordinal);
        var takeovers = new List<DetectedTakeover>();
        foreach (var line in lines.OrderBy(l => l.Index))
        {
            if (line.Verdict is LineVerdict.NoEvidence or LineVerdict.Failed || line.Scores.Count == 0)
            {
                continue;
            }

            if (!tracks.TryGetValue(line.CharacterId, out var track))
            {
                tracks[line.CharacterId] = track = new RoleTrack();
            }

            var scores = screenMargin is { } margin && !track.TakenOver && Screens(line.Scores, margin) is { } kept ? kept : line.Scores;
            screened += line.Screened || scores.Count < line.Scores.Count ? 1 : 0;
            var posterior = RoleAttribution.Posterior([.. scores.Select(s => s.MeanLogProbability)], sharpness);
            var assigned = Math.Max(0, scores.ToList().FindIndex(s => s.Kind == HypothesisKind.Assigned));
            if (detector.Observe(track, new RoleObservation(line.Index, line.Turn, posterior, assigned)) is { Kind: RoleTransitionKind.Takeover } takeover)
            {
                takeovers.Add(new DetectedTakeover(line.CharacterId, takeover.First.LineIndex, takeover.Last.LineIndex, null, scores[takeover.Taker].Role));
            }
        }

        return (takeovers, screened);
    }

    /// <summary>
    /// The assigned and no-persona scores of a line when the first stage at <paramref name="margin"/> holds it; null
    /// when it does not, or the line lacks either score.
    /// </summary>
    public static IReadOnlyList<HypothesisScore>? Screens(IReadOnlyList<HypothesisScore> scores, double margin)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var assigned = scores.FirstOrDefault(s => s.Kind == HypothesisKind.Assigned);
        var neutral = scores.FirstOrDefault(s => s.Kind == HypothesisKind.Neutral);
        return assigned is not null && neutral is not null && assigned.MeanLogProbability - neutral.MeanLogProbability >= margin
            ? [assigned, neutral]
            : null;
    }

    /// <summary>
    /// Every combination of the grid (the default grid when none is given), replayed on every scene, best first: by F1,
    /// then precision, then recall, then the smaller run and the default-like sharpness for equals.
    /// </summary>
    public static IReadOnlyList<SweepPoint> Run(
        IReadOnlyList<(LabelledScene Scene, IReadOnlyList<LineAttribution> Lines)> scenes,
        IReadOnlyList<double>? sharpnesses = null,
        IReadOnlyList<double>? thresholds = null,
        IReadOnlyList<double>? margins = null,
        IReadOnlyList<int>? runs = null)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        var points = new List<SweepPoint>();
        foreach (var sharpness in sharpnesses ?? Sharpnesses)
        {
            foreach (var threshold in thresholds ?? Thresholds)
            {
                foreach (var margin in margins ?? Margins)
                {
                    foreach (var run in runs ?? Runs)
                    {
                        var settings = new DetectorSettings(threshold, margin, run);
                        var outcomes = scenes.Select(s => SceneOutcome.Of(s.Scene, Replay(s.Lines, sharpness, settings))).ToList();
                        points.Add(new SweepPoint(sharpness, settings, TakeoverEvaluation.Measure(outcomes)));
                    }
                }
            }
        }

        return [.. points
            .OrderByDescending(p => p.Metrics.F1)
            .ThenByDescending(p => p.Metrics.Precision)
            .ThenByDescending(p => p.Metrics.Recall)
            .ThenBy(p => p.Detector.ConsecutiveLines)
            .ThenBy(p => Math.Abs(p.Sharpness - 5))];
    }
}
