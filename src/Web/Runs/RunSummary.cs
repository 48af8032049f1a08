namespace AgentTheater.Web.Runs;

/// <summary>The figures of a finished run.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenario">Scenario name.</param>
/// <param name="Scenes">Scene replicas.</param>
/// <param name="Completed">Scenes that ended normally.</param>
/// <param name="Failed">Scenes that failed.</param>
/// <param name="Lines">Transcript lines in all.</param>
/// <param name="CharacterLines">Lines spoken by characters.</param>
/// <param name="Tokens">Generated tokens.</param>
/// <param name="PrefillTokens">Prompt tokens the pool prefilled for character lines.</param>
/// <param name="Characters">Character grains: the characters present in any scene, once per replica (each plays its whole story).</param>
/// <param name="WallSeconds">Wall time from start to the last scene's end.</param>
/// <param name="PeakWorkingSetMegabytes">Peak resident memory of this process.</param>
/// <param name="GenerationSeconds">Time character lines spent in the pool (queue and generation), summed over lines.</param>
/// <param name="Attribution">What role attribution found and cost; null when the run played without it.</param>
public sealed record RunSummary(
    string RunId,
    string Scenario,
    int Scenes,
    int Completed,
    int Failed,
    int Lines,
    int CharacterLines,
    long Tokens,
    long PrefillTokens,
    int Characters,
    double WallSeconds,
    double PeakWorkingSetMegabytes,
    double GenerationSeconds = 0,
    AttributionSummary? Attribution = null)
{
    public double LinesPerSecond => CharacterLines / WallSeconds;

    public double TokensPerSecond => Tokens / WallSeconds;
}

/// <summary>Role attribution over a run, and its cost next to generation's.</summary>
/// <param name="AttributedLines">Character lines scored.</param>
/// <param name="FailedLines">Lines whose scoring failed.</param>
/// <param name="Takeovers">Takeovers detected.</param>
/// <param name="Recovered">Of those, how many recovered.</param>
/// <param name="ScoreCalls">Line scorings (lines × hypotheses).</param>
/// <param name="ScoredTokens">Line tokens scored over every hypothesis.</param>
/// <param name="PrefillTokens">Tokens the pool decoded for attribution (line scoring and trigger searches).</param>
/// <param name="Seconds">Wall time of the scoring calls (line scoring and trigger searches), summed over calls.</param>
/// <param name="TriggerSearches">Trigger searches.</param>
/// <param name="TokenOverhead">Attribution's decoded tokens over generation's (prefilled and generated).</param>
/// <param name="TimeOverhead">Attribution's scoring time over generation's time in the pool.</param>
/// <param name="ScreenedLines">Lines the first stage held on the assigned and no-persona scores alone.</param>
public sealed record AttributionSummary(
    int AttributedLines,
    int FailedLines,
    int Takeovers,
    int Recovered,
    long ScoreCalls,
    long ScoredTokens,
    long PrefillTokens,
    double Seconds,
    int TriggerSearches,
    double TokenOverhead,
    double TimeOverhead,
    int ScreenedLines);
