using Orleans.Concurrency;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Contracts.Attribution;

/// <summary>
/// Role attribution of one scene replica: for every character line, which role best explains it, and when a
/// character's assigned role stopped (and started again) being the best explanation. Key: the scene key.
/// </summary>
public interface ISceneAttributionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Attributes, in transcript order, every character line of <paramref name="transcript"/> not yet attributed
    /// (so a call after a failure catches up); returns how many it attributed. Does nothing when attribution is
    /// disabled on the silo.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<int> Attribute(SceneStart scene, IReadOnlyList<SceneLine> transcript, CancellationToken cancellationToken = default);

    /// <summary>Every line's attribution, every takeover, and what scoring cost.</summary>
    Task<SceneAttribution> GetAttribution();

    /// <summary>
    /// The attribution now and after every line attributed, until cancelled: what a live view shows as verdicts,
    /// takeovers and recoveries come in.
    /// </summary>
    [AlwaysInterleave]
    IAsyncEnumerable<SceneAttribution> Watch(CancellationToken cancellationToken = default);
}

/// <summary>What a competing explanation of a line is.</summary>
public enum HypothesisKind
{
    /// <summary>The role the character was cast in (its own persona card).</summary>
    Assigned,

    /// <summary>Another character present: the speaker's name with that character's role, goals and style.</summary>
    Character,

    /// <summary>A role the scenario watches for (<c>watch_roles</c>), e.g. "a pirate".</summary>
    Watched,

    /// <summary>No persona at all: only who is present and the scene.</summary>
    Neutral,
}

/// <summary>How a line relates to the speaker's assigned role.</summary>
public enum LineVerdict
{
    /// <summary>The assigned role is the best explanation (and above the threshold).</summary>
    Held,

    /// <summary>The assigned role's posterior is below the threshold, or another role is ahead by the margin.</summary>
    TakenOver,

    /// <summary>Neither: another role is slightly ahead.</summary>
    Ambiguous,

    /// <summary>An empty line: nothing to score, the detector skips it.</summary>
    NoEvidence,

    /// <summary>Scoring failed (see the error); the detector skips it.</summary>
    Failed,
}

/// <summary>The attribution of a scene so far.</summary>
/// <param name="SceneKey">Scene key.</param>
/// <param name="Enabled">False when the silo runs without attribution (then everything else is empty).</param>
/// <param name="Lines">One record per attributed character line, in transcript order.</param>
/// <param name="Takeovers">Every takeover, in the order detected.</param>
/// <param name="Cost">What scoring cost.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.SceneAttribution")]
public sealed record SceneAttribution(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] bool Enabled,
    [property: Id(2)] IReadOnlyList<LineAttribution> Lines,
    [property: Id(3)] IReadOnlyList<RoleTakeover> Takeovers,
    [property: Id(4)] AttributionCost Cost);

/// <summary>One hypothesis's score of a line.</summary>
/// <param name="Id">Hypothesis id: <c>assigned</c>, <c>character:{id}</c>, <c>watch:{role}</c> or <c>neutral</c>.</param>
/// <param name="Kind">What kind of explanation it is.</param>
/// <param name="Role">The role text in its persona card (empty for neutral).</param>
/// <param name="LogProbability">Sum of the line's token log-probabilities under the hypothesis's prompt (natural log).</param>
/// <param name="MeanLogProbability">The same per token: what the posterior is computed from.</param>
/// <param name="Posterior">Posterior probability of the hypothesis.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.HypothesisScore")]
public sealed record HypothesisScore(
    [property: Id(0)] string Id,
    [property: Id(1)] HypothesisKind Kind,
    [property: Id(2)] string Role,
    [property: Id(3)] double LogProbability,
    [property: Id(4)] double MeanLogProbability,
    [property: Id(5)] double Posterior);

/// <summary>Which role best explains one character line.</summary>
/// <param name="SceneKey">Scene key.</param>
/// <param name="Index">The line's transcript index.</param>
/// <param name="Turn">The line's turn.</param>
/// <param name="CharacterId">Speaker's character id.</param>
/// <param name="Character">Speaker's name.</param>
/// <param name="Verdict">How the line relates to the assigned role.</param>
/// <param name="AssignedPosterior">Posterior of the assigned role.</param>
/// <param name="Best">Id of the hypothesis with the highest posterior.</param>
/// <param name="Scores">Every hypothesis, the assigned one first; for a screened line only the assigned and neutral ones.</param>
/// <param name="Tokens">Tokens of the line scored (under each hypothesis).</param>
/// <param name="PrefillTokens">Tokens the pool decoded for all hypotheses together (the rest came from cached prefixes).</param>
/// <param name="Milliseconds">Wall time of the batched scoring call.</param>
/// <param name="GeneratedAs">The role the line was generated as when the scenario forced one (<c>play_as</c>); null otherwise.</param>
/// <param name="Error">Why scoring failed, when it did.</param>
/// <param name="Screened">
/// True when the first stage held the line: the assigned card explained it better than no persona by at least the
/// screen margin, so the other roles were not scored.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.LineAttribution")]
public sealed record LineAttribution(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] int Index,
    [property: Id(2)] int Turn,
    [property: Id(3)] string CharacterId,
    [property: Id(4)] string Character,
    [property: Id(5)] LineVerdict Verdict,
    [property: Id(6)] double AssignedPosterior,
    [property: Id(7)] string? Best,
    [property: Id(8)] IReadOnlyList<HypothesisScore> Scores,
    [property: Id(9)] int Tokens,
    [property: Id(10)] int PrefillTokens,
    [property: Id(11)] double Milliseconds,
    [property: Id(12)] string? GeneratedAs = null,
    [property: Id(13)] string? Error = null,
    [property: Id(14)] bool Screened = false);

/// <summary>A character's assigned role stopped being the best explanation of its lines.</summary>
/// <param name="SceneKey">Scene key.</param>
/// <param name="CharacterId">Character id.</param>
/// <param name="Character">Character name.</param>
/// <param name="AssignedRole">The role it was given.</param>
/// <param name="TakenOverBy">Id of the hypothesis that took over.</param>
/// <param name="TakenOverByKind">Kind of that hypothesis.</param>
/// <param name="TakenOverByRole">Its role text (empty for neutral).</param>
/// <param name="Posterior">The assigned role's mean posterior over the lines that made the takeover.</param>
/// <param name="TakerPosterior">The taking-over role's mean posterior over the same lines.</param>
/// <param name="Turn">Turn of the first taken-over line.</param>
/// <param name="LineIndex">Transcript index of the first taken-over line.</param>
/// <param name="DetectedTurn">Turn of the line that completed the run of taken-over lines.</param>
/// <param name="DetectedLineIndex">Its transcript index.</param>
/// <param name="Trigger">The witnessed line whose removal most restores the assigned role; null when there was none to remove.</param>
/// <param name="RecoveredTurn">Turn of the first line of the run that brought the assigned role back; null while taken over.</param>
/// <param name="RecoveredLineIndex">Its transcript index.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.RoleTakeover")]
public sealed record RoleTakeover(
    [property: Id(0)] string SceneKey,
    [property: Id(1)] string CharacterId,
    [property: Id(2)] string Character,
    [property: Id(3)] string AssignedRole,
    [property: Id(4)] string TakenOverBy,
    [property: Id(5)] HypothesisKind TakenOverByKind,
    [property: Id(6)] string TakenOverByRole,
    [property: Id(7)] double Posterior,
    [property: Id(8)] double TakerPosterior,
    [property: Id(9)] int Turn,
    [property: Id(10)] int LineIndex,
    [property: Id(11)] int DetectedTurn,
    [property: Id(12)] int DetectedLineIndex,
    [property: Id(13)] TakeoverTrigger? Trigger,
    [property: Id(14)] int? RecoveredTurn = null,
    [property: Id(15)] int? RecoveredLineIndex = null);

/// <summary>
/// The line that caused a takeover: the first taken-over line was rescored with each of the last few witnessed
/// lines left out, and leaving this one out restored the assigned role most.
/// </summary>
/// <param name="LineIndex">Transcript index of the trigger line.</param>
/// <param name="Turn">Its turn.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Speaker">Who said it.</param>
/// <param name="Text">What was said.</param>
/// <param name="Intervention">True when the scenario injected it.</param>
/// <param name="RestoredPosterior">The assigned role's posterior of the first taken-over line without the trigger line.</param>
/// <param name="Restoration">How much that is above the posterior with it (not above 0: no left-out line explains the takeover).</param>
/// <param name="Candidates">Every line left out, with the assigned role's posterior without it.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.TakeoverTrigger")]
public sealed record TakeoverTrigger(
    [property: Id(0)] int LineIndex,
    [property: Id(1)] int Turn,
    [property: Id(2)] LineKind Kind,
    [property: Id(3)] string Speaker,
    [property: Id(4)] string Text,
    [property: Id(5)] bool Intervention,
    [property: Id(6)] double RestoredPosterior,
    [property: Id(7)] double Restoration,
    [property: Id(8)] IReadOnlyList<TriggerCandidate> Candidates);

/// <summary>One line left out in the trigger search.</summary>
/// <param name="LineIndex">Transcript index of the line left out.</param>
/// <param name="AssignedPosterior">The assigned role's posterior of the first taken-over line without it.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.TriggerCandidate")]
public sealed record TriggerCandidate(
    [property: Id(0)] int LineIndex,
    [property: Id(1)] double AssignedPosterior);

/// <summary>What attribution cost in a scene, to compare with generation.</summary>
/// <param name="Lines">Character lines attributed.</param>
/// <param name="ScoreCalls">Hypothesis scorings (one per line and hypothesis).</param>
/// <param name="ScoredTokens">Line tokens scored, over every hypothesis.</param>
/// <param name="PrefillTokens">Tokens the pool decoded for line scoring (prompt suffixes not cached, plus the lines).</param>
/// <param name="Milliseconds">Wall time of the line scoring calls.</param>
/// <param name="TriggerSearches">Trigger searches (one per takeover).</param>
/// <param name="TriggerPrefillTokens">Tokens the pool decoded for trigger searches.</param>
/// <param name="TriggerMilliseconds">Wall time of trigger searches.</param>
/// <param name="ScreenedLines">Of <paramref name="Lines"/>, those the first stage held without scoring the other roles.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.AttributionCost")]
public sealed record AttributionCost(
    [property: Id(0)] int Lines = 0,
    [property: Id(1)] int ScoreCalls = 0,
    [property: Id(2)] long ScoredTokens = 0,
    [property: Id(3)] long PrefillTokens = 0,
    [property: Id(4)] double Milliseconds = 0,
    [property: Id(5)] int TriggerSearches = 0,
    [property: Id(6)] long TriggerPrefillTokens = 0,
    [property: Id(7)] double TriggerMilliseconds = 0,
    [property: Id(8)] int ScreenedLines = 0);
