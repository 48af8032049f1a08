using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Attribution;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>A labelled scene and the attribution the real scene attribution grain gave it.</summary>
public sealed record EvaluatedScene(LabelledScene Scene, SceneAttribution Attribution);

/// <summary>How far attributing a labelled set has got.</summary>
/// <param name="Scenes">Labelled scenes attributed.</param>
/// <param name="TotalScenes">Labelled scenes in the set.</param>
/// <param name="Lines">Character lines of the attributed scenes.</param>
/// <param name="TotalLines">Character lines in the set.</param>
public sealed record EvaluationProgress(int Scenes, int TotalScenes, int Lines, int TotalLines);

/// <summary>
/// Runs labelled transcripts through the real attribution (<see cref="ISceneAttributionGrain.Attribute"/>, as a played
/// scene calls it), several scenes at once so the pool batches their scoring, and measures what it found.
/// </summary>
public static class TakeoverEvaluator
{
    /// <summary>
    /// Attributes every scene of <paramref name="set"/> under the run id <paramref name="runId"/>, at most
    /// <paramref name="parallel"/> at a time, reporting each scene as it is done.
    /// </summary>
    public static async Task<IReadOnlyList<EvaluatedScene>> AttributeAsync(
        IGrainFactory grains,
        IReadOnlyList<LabelledScene> set,
        string runId,
        int parallel,
        IProgress<EvaluationProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(set);
        var total = set.Sum(CharacterLines);
        int scenes = 0, lines = 0;
        var gate = new object();
        progress?.Report(new EvaluationProgress(0, set.Count, 0, total));
        using var slots = new SemaphoreSlim(parallel);
        return await Task.WhenAll(set.Select(async scene =>
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                var grain = grains.GetGrain<ISceneAttributionGrain>(SceneKey(runId, scene));
                await grain.Attribute(scene.Scene with { RunId = runId }, scene.Transcript, cancellationToken);
                var attribution = await grain.GetAttribution();
                lock (gate)
                {
                    // Reported under the lock, so the counts a display sees only ever grow.
                    scenes++;
                    lines += CharacterLines(scene);
                    progress?.Report(new EvaluationProgress(scenes, set.Count, lines, total));
                }

                return new EvaluatedScene(scene, attribution);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    /// <summary>The grain key of a labelled scene: <c>{run id}/{scene id}</c> (its transcript file is named after the scene id).</summary>
    public static string SceneKey(string runId, LabelledScene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        return $"{runId}/{scene.Id}";
    }

    /// <summary>
    /// What the attribution of <paramref name="scenes"/> found against their labels at <paramref name="options"/>, and
    /// a sweep of the detector's settings replayed on the recorded scores.
    /// </summary>
    public static EvaluationResult Evaluate(
        string set, string model, AttributionOptions options, IReadOnlyList<EvaluatedScene> scenes, double seconds, ForcedMetrics? forced, string? forcedRun)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(scenes);
        var outcomes = scenes.Select(s => SceneOutcome.Of(s.Scene, [.. s.Attribution.Takeovers.Select(DetectedTakeover.From)])).ToList();
        var used = SettingsUsed.From(options);
        var defaults = SettingsUsed.From(new AttributionOptions());
        var recorded = scenes.Select(s => (s.Scene, (IReadOnlyList<LineAttribution>)s.Attribution.Lines)).ToList();

        // The replay at the run's own settings must find what the grain found, or the sweep would measure something else.
        var replayMatches = scenes.All(s =>
            DetectorSweep.Replay(s.Attribution.Lines, options.Sharpness, options.Detector).Select(t => (t.CharacterId, t.LineIndex, t.DetectedLineIndex))
                .SequenceEqual(s.Attribution.Takeovers.Select(t => (t.CharacterId, t.LineIndex, t.DetectedLineIndex))));
        var sweep = DetectorSweep.Run(recorded).Select((p, i) => SweepRow.From(i + 1, p, defaults, used)).ToList();
        var lines = scenes.SelectMany(s => s.Attribution.Lines).ToList();
        return new EvaluationResult(
            set, model, used, defaults, lines.Count, lines.Count(l => l.Verdict == LineVerdict.Failed), seconds,
            TakeoverEvaluation.Measure(outcomes), replayMatches, forced, forcedRun, sweep, outcomes, ScreenSweep(recorded, options, defaults, used));
    }

    /// <summary>The first stage replayed at no screening and at each of <see cref="ScreenRow.Margins"/>, at the run's detector settings.</summary>
    public static IReadOnlyList<ScreenRow> ScreenSweep(
        IReadOnlyList<(LabelledScene Scene, IReadOnlyList<LineAttribution> Lines)> scenes, AttributionOptions options, SettingsUsed defaults, SettingsUsed used)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(used);
        var lines = scenes.Sum(s => s.Lines.Count(l => l.Verdict is not (LineVerdict.NoEvidence or LineVerdict.Failed)));

        // A line the run screened has no other scores, so only margins that screen at least as much replay exactly.
        var screenedRun = scenes.Any(s => s.Lines.Any(l => l.Screened));
        var margins = ScreenRow.Margins.Select(m => (double?)m).Prepend(null)
            .Where(m => !screenedRun || (m is { } margin && used.ScreenMargin is { } recorded && margin <= recorded));
        return [.. margins.Select(margin =>
        {
            var replays = scenes.Select(s => (s.Scene, Replay: DetectorSweep.ReplayCounting(s.Lines, options.Sharpness, options.Detector, margin))).ToList();
            var metrics = TakeoverEvaluation.Measure([.. replays.Select(r => SceneOutcome.Of(r.Scene, r.Replay.Takeovers))]);
            return new ScreenRow(
                margin, replays.Sum(r => r.Replay.Screened), lines, metrics.Precision, metrics.Recall, metrics.F1, metrics.TruePositives, metrics.FalsePositives,
                margin == defaults.ScreenMargin, margin == used.ScreenMargin);
        })];
    }

    /// <summary>Character lines of a labelled scene.</summary>
    public static int CharacterLines(LabelledScene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        return scene.Transcript.Count(l => l.Kind == LineKind.Character);
    }
}
