using AgentTheater.Analysis.Takeovers;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Grains.Attribution;

namespace AgentTheater.Analysis.Tests;

/// <summary>The metrics of takeover detection on hand-made labelled outcomes, the sweep's replay, and forced takeovers.</summary>
public sealed class TakeoverEvaluationTests
{
    // A comply scene: the push is line 3, the target "ada" speaks at lines 1, 4, 6, 8.
    private static readonly TakeoverLabel Comply = new(LabelKind.Comply, "ada", PushIndex: 3, FirstReplyIndex: 4, Role: "a pirate");
    private static readonly int[] AdaLines = [1, 4, 6, 8];

    [Fact]
    public void Measure_TakeoverOfTheTargetAfterThePush_IsATruePositive_WithItsDelayTriggerAndRole()
    {
        var outcome = new SceneOutcome("c", Comply, AdaLines, [new DetectedTakeover("ada", 4, 6, TriggerLineIndex: 3, TakenOverByRole: "a pirate")]);

        var metrics = TakeoverEvaluation.Measure([outcome]);

        Assert.Equal((1, 0, 0), (metrics.TruePositives, metrics.FalsePositives, metrics.Misses));
        Assert.Equal((1.0, 1.0, 1.0), (metrics.Precision, metrics.Recall, metrics.F1));
        Assert.Equal(1, outcome.DetectionDelay);
        Assert.Equal(0, outcome.OnsetDelay);
        Assert.Equal(1.0, metrics.MeanDetectionDelay);
        Assert.Equal((1, 1, 1.0), (metrics.TriggersSearched, metrics.TriggersRight, metrics.TriggerAccuracy));
        Assert.Equal(1, metrics.RoleNamed);
    }

    [Fact]
    public void Measure_TakeoverBeforeThePush_OrOfAnotherCharacter_IsFalse_AndTheSceneIsMissed()
    {
        var outcome = new SceneOutcome("c", Comply, AdaLines, [new DetectedTakeover("ada", 1, 4), new DetectedTakeover("bo", 5, 7)]);

        var metrics = TakeoverEvaluation.Measure([outcome]);

        Assert.Null(outcome.Correct);
        Assert.Equal((0, 2, 1), (metrics.TruePositives, metrics.FalsePositives, metrics.Misses));
        Assert.Equal((0.0, 0.0, 0.0), (metrics.Precision, metrics.Recall, metrics.F1));
        Assert.Null(metrics.MeanDetectionDelay);
        Assert.Null(metrics.TriggerAccuracy);
    }

    [Fact]
    public void Measure_MixedKinds_CountsEveryTakeoverInResistAndNoneScenesAsFalse()
    {
        var resist = new TakeoverLabel(LabelKind.Resist, "ada", 3, 4);
        SceneOutcome[] outcomes =
        [
            new("hit", Comply, AdaLines, [new DetectedTakeover("ada", 6, 8, TriggerLineIndex: 5, TakenOverByRole: "a robot"), new DetectedTakeover("ada", 8, 8)]),
            new("missed", Comply, AdaLines, []),
            new("late", Comply, AdaLines, [new DetectedTakeover("ada", 4, 8, TriggerLineIndex: 3, TakenOverByRole: "a pirate")]),
            new("resisted", resist, AdaLines, [new DetectedTakeover("ada", 4, 6)]),
            new("quiet", new TakeoverLabel(LabelKind.None), [], [new DetectedTakeover("bo", 2, 5), new DetectedTakeover("cy", 3, 7)]),
            new("calm", new TakeoverLabel(LabelKind.None), [], []),
        ];

        var metrics = TakeoverEvaluation.Measure(outcomes);

        // 2 of 3 comply scenes detected; false: the resisting target's and the two in the quiet scene. A second takeover of
        // the target after the push is neither (the scene counts once).
        Assert.Equal((2, 3, 1), (metrics.TruePositives, metrics.FalsePositives, metrics.Misses));
        Assert.Equal(2.0 / 5, metrics.Precision, 12);
        Assert.Equal(2.0 / 3, metrics.Recall, 12);
        Assert.Equal(2 * (0.4 * 2 / 3) / (0.4 + 2.0 / 3), metrics.F1, 12);

        // Delays in the target's lines after its first reply (4): "hit" detected at 8 (lines 4, 6 before it), "late" at 8.
        Assert.Equal(2.0, metrics.MeanDetectionDelay);
        Assert.Equal(2.0, metrics.MedianDetectionDelay);
        Assert.Equal((1 + 0) / 2.0, metrics.MeanOnsetDelay);

        // Triggers: "hit" named line 5, not the push (3); "late" named the push.
        Assert.Equal((2, 1, 0.5), (metrics.TriggersSearched, metrics.TriggersRight, metrics.TriggerAccuracy));
        Assert.Equal(1, metrics.RoleNamed);
        Assert.Equal(
            [new KindCounts(LabelKind.Comply, 3, 2, 3, 3), new KindCounts(LabelKind.Resist, 1, 1, 1, 1), new KindCounts(LabelKind.None, 2, 1, 2, 0)],
            metrics.Kinds);
    }

    [Fact]
    public void Measure_NothingDetected_HasPrecisionOne_AndRecallZero()
    {
        var metrics = TakeoverEvaluation.Measure([new SceneOutcome("c", Comply, AdaLines, [])]);

        Assert.Equal((1.0, 0.0, 0.0), (metrics.Precision, metrics.Recall, metrics.F1));
    }

    [Fact]
    public void Median_OddAndEvenCounts()
    {
        Assert.Equal(2.0, TakeoverEvaluation.Median([1, 2, 9]));
        Assert.Equal(1.5, TakeoverEvaluation.Median([1, 2]));
        Assert.Null(TakeoverEvaluation.Median([]));
    }

    [Fact]
    public void Replay_RecordedScores_FindsTheTakeoverTheSettingsDecide()
    {
        // Hypotheses [assigned, a pirate]: mean log-likelihoods equal, then the pirate far ahead for lines 2 and 3.
        LineAttribution[] lines = [Line(0, -2, -2), Line(2, -4, -1), Line(3, -4, -1), Line(5, -2, -2)];

        var takeover = Assert.Single(DetectorSweep.Replay(lines, sharpness: 5, new DetectorSettings(0.1, 0.3, 2)));

        Assert.Equal(new DetectedTakeover("ada", 2, 3, null, "a pirate"), takeover);

        // Three in a row are never reached; at sharpness 0.1 the posterior is too flat for any line to be taken over.
        Assert.Empty(DetectorSweep.Replay(lines, sharpness: 5, new DetectorSettings(0.1, 0.3, 3)));
        Assert.Empty(DetectorSweep.Replay(lines, sharpness: 0.1, new DetectorSettings(0.1, 0.3, 1)));
    }

    [Fact]
    public void Replay_WithAScreenMargin_HoldsLinesWhoseCardBeatsNoPersona_AndOnlyThose()
    {
        // [assigned, a pirate, neutral]: line 2 is the pirate's but its card leads no persona by 0.5, so a screen at
        // 0.4 holds it and breaks the run; line 3 leads by 0.1, so it is scored in full either way.
        LineAttribution[] lines = [Screenable(0, -2, -3, -3), Screenable(2, -3.5, -1, -4), Screenable(3, -4, -1, -4.1), Screenable(5, -4, -1, -4.1)];
        var settings = new DetectorSettings(0.1, 0.3, 2);

        var (unscreened, none) = DetectorSweep.ReplayCounting(lines, sharpness: 5, settings);
        var (screened, held) = DetectorSweep.ReplayCounting(lines, sharpness: 5, settings, screenMargin: 0.4);

        Assert.Equal(new DetectedTakeover("ada", 2, 3, null, "a pirate"), Assert.Single(unscreened));
        Assert.Equal(0, none);

        // Lines 0 and 2 held by the screen; lines 3 and 5 make the takeover one line later.
        Assert.Equal(2, held);
        Assert.Equal(new DetectedTakeover("ada", 3, 5, null, "a pirate"), Assert.Single(screened));
    }

    [Fact]
    public void Screens_KeepsTheAssignedAndNeutralScores_WhenTheCardLeadsByTheMargin()
    {
        var line = Screenable(0, -2, -1, -2.5);

        Assert.Equal(["assigned", "neutral"], DetectorSweep.Screens(line.Scores, 0.5)!.Select(s => s.Id));
        Assert.Null(DetectorSweep.Screens(line.Scores, 0.6));
        Assert.Null(DetectorSweep.Screens([line.Scores[0], line.Scores[1]], 0));
    }

    [Fact]
    public void ScreenSweep_AfterAFullRun_ReplaysEveryMargin_AfterAScreenedRunOnlyThoseThatScreenAsMuch()
    {
        var scene = new LabelledScene("c", 1, null!, [], Comply);
        LineAttribution[] full = [Screenable(1, -2, -3, -3), Screenable(4, -3.5, -1, -4), Screenable(6, -4, -1, -4.1), Screenable(8, -4, -1, -4.1)];
        var unscreened = new AttributionOptions { Screen = false };
        var defaults = SettingsUsed.From(new AttributionOptions());

        var rows = TakeoverEvaluator.ScreenSweep([(scene, full)], unscreened, defaults, SettingsUsed.From(unscreened));

        Assert.Equal([null, .. ScreenRow.Margins.Select(m => (double?)m)], rows.Select(r => r.ScreenMargin));
        Assert.True(rows[0].Used);
        Assert.Equal((0, 4), (rows[0].ScreenedLines, rows[0].Lines));
        Assert.Equal(1.0, rows[0].F1);
        Assert.Single(rows, r => r.Defaults);

        // Lines 1 and 4 screened at 0.2 (their card leads no persona by 1 and 0.5).
        LineAttribution[] screened = [.. full.Select((l, i) => i < 2 ? l with { Screened = true, Scores = [l.Scores[0], l.Scores[2]] } : l)];
        var options = new AttributionOptions { ScreenMargin = 0.2 };

        rows = TakeoverEvaluator.ScreenSweep([(scene, screened)], options, defaults, SettingsUsed.From(options));

        Assert.Equal(ScreenRow.Margins.Where(m => m <= 0.2).Select(m => (double?)m), rows.Select(r => r.ScreenMargin));
        Assert.All(rows, r => Assert.True(r.ScreenedLines >= 2));
        Assert.True(rows.Single(r => r.ScreenMargin == 0.2).Used);
    }

    [Fact]
    public void Run_Grid_IsOrderedBestFirst_AndHoldsEverySetting()
    {
        var scene = new LabelledScene("c", 1, null!, [], Comply);
        LineAttribution[] lines = [Line(1, -2, -2), Line(4, -4, -1), Line(6, -4, -1), Line(8, -2, -2)];

        var points = DetectorSweep.Run([(scene, lines)], [1, 5], [0.1], [0.3], [1, 2, 3]);

        Assert.Equal(6, points.Count);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.First.Metrics.F1 >= p.Second.Metrics.F1));
        Assert.Equal(1.0, points[0].Metrics.F1);
        Assert.Contains(points, p => p.Sharpness == 5 && p.Detector.ConsecutiveLines == 2 && p.Metrics.TruePositives == 1);
    }

    [Fact]
    public void ForcedMeasure_DetectionDelayRoleAndFalseTakeovers()
    {
        // Odile is forced to play a pirate from line 4 (turn 2); Tamsin never is.
        LineAttribution[] lines =
        [
            Line(0, -2, -2, "odile"), Line(1, -2, -2, "tamsin"), Line(2, -2, -2, "odile"), Line(3, -2, -2, "tamsin"),
            Line(4, -4, -1, "odile", "a pirate"), Line(5, -2, -2, "tamsin"), Line(6, -4, -1, "odile", "a pirate"), Line(8, -4, -1, "odile", "a pirate"),
        ];
        RoleTakeover[] takeovers = [Takeover("odile", 6, 8, "a pirate"), Takeover("odile", 0, 2, "a robot"), Takeover("tamsin", 1, 3, "a robot")];

        var metrics = ForcedTakeoverEvaluation.Measure(lines, takeovers);

        var forced = Assert.Single(metrics.Cases);
        Assert.Equal(("odile", "a pirate", 4, 3), (forced.CharacterId, forced.Role, forced.FromTurn, forced.ForcedLines));
        Assert.Equal(2, forced.Delay);
        Assert.True(forced.RoleRight);
        Assert.Equal((1, 1, 1.0, 1), (metrics.Forced, metrics.Detected, metrics.DetectionRate, metrics.RoleNamed));
        Assert.Equal((1, 1, 1), (metrics.EarlyTakeovers, metrics.UnforcedCharacters, metrics.FalseTakeovers));
    }

    private static LineAttribution Line(int index, double assigned, double pirate, string character = "ada", string? generatedAs = null) => new(
        "run/scene", index, index, character, character, LineVerdict.Held, 0, null,
        [new HypothesisScore("assigned", HypothesisKind.Assigned, "the librarian", assigned * 10, assigned, 0),
         new HypothesisScore("watch:a pirate", HypothesisKind.Watched, "a pirate", pirate * 10, pirate, 0)],
        10, 0, 0, generatedAs);

    private static LineAttribution Screenable(int index, double assigned, double pirate, double neutral) => new(
        "run/scene", index, index, "ada", "Ada", LineVerdict.Held, 0, null,
        [new HypothesisScore("assigned", HypothesisKind.Assigned, "the librarian", assigned * 10, assigned, 0),
         new HypothesisScore("watch:a pirate", HypothesisKind.Watched, "a pirate", pirate * 10, pirate, 0),
         new HypothesisScore("neutral", HypothesisKind.Neutral, "", neutral * 10, neutral, 0)],
        10, 0, 0);

    private static RoleTakeover Takeover(string character, int first, int detected, string role) => new(
        "run/scene", character, character, "own", "watch:" + role, HypothesisKind.Watched, role, 0.05, 0.9, first, first, detected, detected, null);
}
