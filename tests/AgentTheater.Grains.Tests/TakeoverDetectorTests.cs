using AgentTheater.Grains.Attribution;

namespace AgentTheater.Grains.Tests;

/// <summary>The detector on known posteriors: hypotheses are [assigned, other character, a pirate, neutral].</summary>
public sealed class TakeoverDetectorTests
{
    private static readonly double[] InRole = [0.70, 0.10, 0.10, 0.10];
    private static readonly double[] Pirate = [0.05, 0.05, 0.85, 0.05];
    private static readonly double[] SlightlyOff = [0.35, 0.10, 0.45, 0.10];
    private static readonly double[] Neutral = [0.20, 0.05, 0.05, 0.70];

    private readonly TakeoverDetector _detector = new(new DetectorSettings(Threshold: 0.1, Margin: 0.3, ConsecutiveLines: 2));
    private readonly RoleTrack _track = new();
    private int _line;

    [Fact]
    public void Observe_OneTakenOverLine_IsNotATakeover()
    {
        Assert.Null(Observe(InRole));
        Assert.Null(Observe(Pirate));
        Assert.Null(Observe(InRole));
        Assert.Null(Observe(Pirate));
        Assert.False(_track.TakenOver);
    }

    [Fact]
    public void Observe_KTakenOverLinesInARow_IsATakeover_FromTheFirstOfThem()
    {
        Observe(InRole);
        Observe(Pirate);
        var takeover = Observe(Pirate);

        Assert.NotNull(takeover);
        Assert.Equal(RoleTransitionKind.Takeover, takeover.Kind);
        Assert.Equal((1, 2), (takeover.First.LineIndex, takeover.Last.LineIndex));
        Assert.Equal(2, takeover.Taker);
        Assert.Equal(0.05, takeover.AssignedPosterior, 12);
        Assert.Equal(0.85, takeover.TakerPosterior, 12);
        Assert.True(_track.TakenOver);
    }

    [Fact]
    public void Observe_AnAmbiguousLine_BreaksTheRun()
    {
        Observe(Pirate);
        Assert.Null(Observe(SlightlyOff));
        Assert.Null(Observe(Pirate));
        Assert.NotNull(Observe(Pirate));
    }

    [Fact]
    public void Observe_Taker_IsTheRoleWithTheMostPosteriorOverTheRun()
    {
        // The pirate leads the first line and no role the second, but over both the pirate has more (0.95 against 0.85).
        Observe(Pirate);
        var takeover = Observe([0.05, 0.05, 0.10, 0.80]);

        Assert.Equal(2, takeover!.Taker);
        Assert.Equal((0.85 + 0.10) / 2, takeover.TakerPosterior, 12);
    }

    [Fact]
    public void Observe_TakenOverByNoRole_WhenNeutralExplainsTheLinesBest()
    {
        Observe(Neutral);
        var takeover = Observe(Neutral);

        Assert.Equal(3, takeover!.Taker);
        Assert.Equal(0.20, takeover.AssignedPosterior, 12);
    }

    [Fact]
    public void Observe_WhileTakenOver_MoreTakenOverLinesChangeNothing_AndKHeldLinesRecover()
    {
        Observe(Pirate);
        Observe(Pirate);
        Assert.Null(Observe(Pirate));
        Assert.Null(Observe(InRole));
        Assert.Null(Observe(Pirate));
        Assert.Null(Observe(InRole));
        Assert.Null(Observe(SlightlyOff));
        Assert.Null(Observe(InRole));
        var recovery = Observe(InRole);

        Assert.NotNull(recovery);
        Assert.Equal(RoleTransitionKind.Recovery, recovery.Kind);
        Assert.Equal((7, 8), (recovery.First.LineIndex, recovery.Last.LineIndex));
        Assert.Equal(-1, recovery.Taker);
        Assert.Equal(0.70, recovery.AssignedPosterior, 12);
        Assert.False(_track.TakenOver);
    }

    [Fact]
    public void Observe_AfterRecovery_ASecondTakeoverIsDetectedAgain()
    {
        Observe(Pirate);
        Observe(Pirate);
        Observe(InRole);
        Observe(InRole);

        Observe(Neutral);
        var second = Observe(Neutral);

        Assert.Equal(RoleTransitionKind.Takeover, second!.Kind);
        Assert.Equal(3, second.Taker);
    }

    [Fact]
    public void Observe_OneConsecutiveLine_ActsAtOnce()
    {
        var detector = new TakeoverDetector(new DetectorSettings(0.1, 0.3, 1));
        var track = new RoleTrack();

        var takeover = detector.Observe(track, new RoleObservation(0, 0, Pirate, 0));
        var recovery = detector.Observe(track, new RoleObservation(1, 1, InRole, 0));

        Assert.Equal(RoleTransitionKind.Takeover, takeover!.Kind);
        Assert.Same(takeover.First, takeover.Last);
        Assert.Equal(RoleTransitionKind.Recovery, recovery!.Kind);
    }

    [Fact]
    public void Observe_KeepsTheRunningRecordOfTheAssignedRole()
    {
        Observe(InRole);
        Observe(Pirate);
        Observe(SlightlyOff);

        Assert.Equal([0.70, 0.05, 0.35], _track.AssignedPosteriors);
    }

    [Fact]
    public void Observe_ThresholdAlone_CanMakeATakeover_WithoutAnyRoleAhead()
    {
        // Spread over many roles: none is ahead by the margin, but the assigned role is below the threshold.
        double[] diffuse = [0.08, 0.23, 0.23, 0.23, 0.23];
        var detector = new TakeoverDetector(new DetectorSettings(0.1, 0.3, 2));
        var track = new RoleTrack();

        Assert.Null(detector.Observe(track, new RoleObservation(0, 0, diffuse, 0)));
        Assert.NotNull(detector.Observe(track, new RoleObservation(1, 1, diffuse, 0)));
    }

    [Fact]
    public void Constructor_ZeroConsecutiveLines_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TakeoverDetector(new DetectorSettings(0.1, 0.3, 0)));
    }

    private RoleTransition? Observe(double[] posterior)
    {
        var index = _line++;
        return _detector.Observe(_track, new RoleObservation(index, index, posterior, 0));
    }
}
