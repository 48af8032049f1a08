using AgentTheater.Contracts.Attribution;

namespace AgentTheater.Grains.Attribution;

/// <summary>What the detector needs: when a line is taken over, and how many in a row make a takeover or a recovery.</summary>
/// <param name="Threshold">A line is taken over when the assigned role's posterior is below this.</param>
/// <param name="Margin">... or when another role is ahead of it by at least this.</param>
/// <param name="ConsecutiveLines">Lines in a row that make a takeover (taken over) or a recovery (held).</param>
public sealed record DetectorSettings(double Threshold, double Margin, int ConsecutiveLines);

/// <summary>One attributed line of a character, as the detector sees it.</summary>
/// <param name="LineIndex">Transcript index.</param>
/// <param name="Turn">Turn.</param>
/// <param name="Posterior">Posterior over the character's hypotheses (always in the same order).</param>
/// <param name="Assigned">Index of the assigned role in <paramref name="Posterior"/>.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.RoleObservation")]
public sealed record RoleObservation(
    [property: Id(0)] int LineIndex,
    [property: Id(1)] int Turn,
    [property: Id(2)] IReadOnlyList<double> Posterior,
    [property: Id(3)] int Assigned);

/// <summary>A character's running record: its assigned role's posterior line by line, and where the detector stands.</summary>
[GenerateSerializer, Alias("AgentTheater.RoleTrack")]
public sealed class RoleTrack
{
    /// <summary>True between a takeover and the recovery.</summary>
    [Id(0)] public bool TakenOver { get; set; }

    /// <summary>The current run of lines towards the next transition (taken-over lines, or held lines while taken over).</summary>
    [Id(1)] public List<RoleObservation> Run { get; set; } = [];

    /// <summary>The assigned role's posterior of every line the detector saw, in order.</summary>
    [Id(2)] public List<double> AssignedPosteriors { get; set; } = [];

    /// <summary>
    /// True when the character's last scored line needed every role (two-stage attribution): its next line is then
    /// scored under every role in one call, and screened afterwards, to save a round trip.
    /// </summary>
    [Id(3)] public bool LastNeededEveryRole { get; set; }
}

/// <summary>What changed.</summary>
public enum RoleTransitionKind
{
    /// <summary>The assigned role stopped being the best explanation.</summary>
    Takeover,

    /// <summary>The assigned role came back.</summary>
    Recovery,
}

/// <summary>A takeover or a recovery, with the run of lines that made it.</summary>
/// <param name="Kind">Takeover or recovery.</param>
/// <param name="Lines">The run: its first line is where the change began, its last where it was detected.</param>
/// <param name="Taker">For a takeover, the hypothesis that took over (highest total posterior over the run, the assigned one excluded); -1 for a recovery.</param>
/// <param name="AssignedPosterior">The assigned role's mean posterior over the run.</param>
/// <param name="TakerPosterior">The taker's mean posterior over the run (0 for a recovery).</param>
public sealed record RoleTransition(
    RoleTransitionKind Kind,
    IReadOnlyList<RoleObservation> Lines,
    int Taker,
    double AssignedPosterior,
    double TakerPosterior)
{
    /// <summary>Where the change began.</summary>
    public RoleObservation First => Lines[0];

    /// <summary>Where it was detected.</summary>
    public RoleObservation Last => Lines[^1];
}

/// <summary>
/// Hysteresis over a character's lines: <see cref="DetectorSettings.ConsecutiveLines"/> taken-over lines in a row make
/// a takeover; once taken over, as many held lines in a row make a recovery. Any other line breaks the run, so single
/// odd lines and lines that are only slightly off change nothing.
/// </summary>
public sealed class TakeoverDetector(DetectorSettings settings)
{
    private readonly DetectorSettings _settings = Validated(settings);

    /// <summary>Adds a line to <paramref name="track"/>; returns the transition it completes, if any.</summary>
    public RoleTransition? Observe(RoleTrack track, RoleObservation line)
    {
        ArgumentNullException.ThrowIfNull(track);
        ArgumentNullException.ThrowIfNull(line);
        var judgement = RoleAttribution.Judge(line.Posterior, line.Assigned, _settings.Threshold, _settings.Margin);
        track.AssignedPosteriors.Add(judgement.Assigned);
        var towards = track.TakenOver ? LineVerdict.Held : LineVerdict.TakenOver;
        if (judgement.Verdict != towards)
        {
            track.Run.Clear();
            return null;
        }

        track.Run.Add(line);
        if (track.Run.Count < _settings.ConsecutiveLines)
        {
            return null;
        }

        List<RoleObservation> run = [.. track.Run];
        track.Run.Clear();
        track.TakenOver = !track.TakenOver;
        var assigned = run.Average(l => l.Posterior[l.Assigned]);
        if (towards == LineVerdict.Held)
        {
            return new RoleTransition(RoleTransitionKind.Recovery, run, -1, assigned, 0);
        }

        var hypotheses = line.Posterior.Count;
        var taker = Enumerable.Range(0, hypotheses)
            .Where(i => i != line.Assigned)
            .MaxBy(i => run.Sum(l => l.Posterior[i]));
        return new RoleTransition(RoleTransitionKind.Takeover, run, taker, assigned, run.Average(l => l.Posterior[taker]));
    }

    private static DetectorSettings Validated(DetectorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.ConsecutiveLines, 1, nameof(settings));
        return settings;
    }
}
