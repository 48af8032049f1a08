using System.Runtime.CompilerServices;
using System.Diagnostics;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace AgentTheater.Grains.Attribution;

/// <summary>
/// State of a scene's attribution: a record per line, the takeovers, each character's running record, the cost.
/// Lists in it are arrays or <see cref="List{T}"/>: the JSON grain storage serializer records the runtime type of an
/// <see cref="IReadOnlyList{T}"/>, and cannot rebuild the types the compiler makes for collection expressions.
/// </summary>
[GenerateSerializer, Alias("AgentTheater.SceneAttributionState")]
public sealed class SceneAttributionState
{
    /// <summary>One record per attributed character line, in transcript order.</summary>
    [Id(0)] public List<LineAttribution> Lines { get; set; } = [];

    /// <summary>Takeovers in the order detected (a recovery fills in its takeover).</summary>
    [Id(1)] public List<RoleTakeover> Takeovers { get; set; } = [];

    /// <summary>Each character's running record of its assigned role, by character id.</summary>
    [Id(2)] public Dictionary<string, RoleTrack> Tracks { get; set; } = [];

    /// <summary>What scoring cost so far.</summary>
    [Id(3)] public AttributionCost Cost { get; set; } = new();
}

/// <summary>
/// Attributes each character line of one scene in two stages through the speaker's lane of the pool: first under the
/// speaker's own dialogue prompt (its cached generation session) and under no persona (one session the cast shares);
/// when the own card does not lead by <see cref="AttributionOptions.ScreenMargin"/>, or the character is taken over,
/// also under every competing role (each kept cached from line to line: by default in one session per rival role that
/// the cast shares, <see cref="AttributionOptions.SharedRivals"/>). The per-token
/// log-likelihoods become a posterior, and the takeover detector runs on it. On a takeover it rescores the first
/// taken-over line with each of the last witnessed lines left out to find the trigger. Placed on the silo of the scene
/// that calls it.
/// </summary>
[PreferLocalPlacement]
internal sealed partial class SceneAttributionGrain(
    [PersistentState("attribution", TheaterStorage.Name)] IPersistentState<SceneAttributionState> state,
    IOptions<AttributionOptions> options,
    ILogger<SceneAttributionGrain> logger) : Grain, ISceneAttributionGrain
{
    private readonly AttributionOptions _options = options.Value;
    private readonly PromptBudget _budget = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TakeoverDetector? _detector;
    private string? _key;

    private string Key => _key ??= this.GetPrimaryKeyString();

    private TakeoverDetector Detector => _detector ??= new TakeoverDetector(_options.Detector);

    public async Task<int> Attribute(SceneStart scene, IReadOnlyList<SceneLine> transcript, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentNullException.ThrowIfNull(transcript);
        if (!_options.Enabled)
        {
            return 0;
        }

        var done = state.State.Lines.Select(l => l.Index).ToHashSet();
        var pending = transcript.Where(l => l.Kind == LineKind.Character && !done.Contains(l.Index)).OrderBy(l => l.Index).ToList();
        foreach (var line in pending)
        {
            await AttributeLineAsync(scene, transcript, line, cancellationToken);
            await state.WriteStateAsync(cancellationToken);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }

        return pending.Count;
    }

    public Task<SceneAttribution> GetAttribution() => Task.FromResult(Snapshot());

    public async IAsyncEnumerable<SceneAttribution> Watch([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.Task;
            yield return Snapshot();
            await changed.WaitAsync(cancellationToken);
        }
    }

    private SceneAttribution Snapshot() => new(Key, _options.Enabled, [.. state.State.Lines], [.. state.State.Takeovers], state.State.Cost);

    /// <summary>Attributes one line and feeds the detector, in a <c>role.attribute</c> span.</summary>
    private async Task AttributeLineAsync(SceneStart scene, IReadOnlyList<SceneLine> transcript, SceneLine line, CancellationToken cancellationToken)
    {
        var speaker = scene.Cast.FirstOrDefault(c => c.Id == line.SpeakerId)
            ?? throw new ArgumentException($"Line {line.Index} of scene {Key} is spoken by '{line.SpeakerId}', who is not in the cast.", nameof(transcript));
        using var activity = TheaterTelemetry.StartRoleAttribution(ScenarioName(scene), Key, speaker.Id, line.Turn);
        var hypotheses = RoleHypotheses.For(speaker, scene.Cast, scene.WatchRoles);
        var witnessed = scene.CarriedBy(speaker.Id).Lines.Concat(RoleHypotheses.WitnessedBefore(transcript, speaker.Id, line.Index)).ToList();
        var record = await ScoreLineAsync(scene, speaker, hypotheses, witnessed, line, cancellationToken);
        state.State.Lines.Add(record);
        if (record.Verdict is LineVerdict.NoEvidence or LineVerdict.Failed)
        {
            return;
        }

        if (!state.State.Tracks.TryGetValue(speaker.Id, out var track))
        {
            state.State.Tracks[speaker.Id] = track = new RoleTrack();
        }

        track.LastNeededEveryRole = !record.Screened;

        var observation = new RoleObservation(line.Index, line.Turn, record.Scores.Select(s => s.Posterior).ToArray(), 0);
        switch (Detector.Observe(track, observation))
        {
            case { Kind: RoleTransitionKind.Takeover } takeover:
                var taker = hypotheses[takeover.Taker];
                var trigger = await FindTriggerAsync(scene, speaker, hypotheses[0], taker, transcript, takeover.First, cancellationToken);
                var detected = new RoleTakeover(
                    Key, speaker.Id, speaker.Name, speaker.Role, taker.Id, taker.Kind, taker.Role, takeover.AssignedPosterior, takeover.TakerPosterior,
                    takeover.First.Turn, takeover.First.LineIndex, takeover.Last.Turn, takeover.Last.LineIndex, trigger);
                state.State.Takeovers.Add(detected);
                OnTakeover(scene, detected);
                break;
            case { Kind: RoleTransitionKind.Recovery } recovery:
                var open = state.State.Takeovers.FindLastIndex(t => t.CharacterId == speaker.Id && t.RecoveredTurn is null);
                if (open >= 0)
                {
                    var recovered = state.State.Takeovers[open] with { RecoveredTurn = recovery.First.Turn, RecoveredLineIndex = recovery.First.LineIndex };
                    state.State.Takeovers[open] = recovered;
                    OnRecovered(scene, recovered, recovery.AssignedPosterior);
                }

                break;
        }
    }

    private async Task<LineAttribution> ScoreLineAsync(
        SceneStart scene, PersonaCard speaker, IReadOnlyList<RoleHypothesis> hypotheses, IReadOnlyList<SceneLine> witnessed, SceneLine line, CancellationToken cancellationToken)
    {
        var generatedAs = DialoguePrompt.ForcedRole(speaker, line.Turn);
        var uniform = 1.0 / hypotheses.Count;
        var record = new LineAttribution(
            Key, line.Index, line.Turn, speaker.Id, speaker.Name, LineVerdict.NoEvidence, uniform, null,
            hypotheses.Select(h => new HypothesisScore(h.Id, h.Kind, h.Role, 0, 0, uniform)).ToArray(), 0, 0, 0, generatedAs);
        if (DialoguePrompt.Flatten(line.Text).Length == 0)
        {
            return record;
        }

        // The first stage scores the assigned card (index 0) and no persona (last); the second, when the first does
        // not hold the line, every other role. Without screening, or while taken over, all in one call; and when the
        // character's last line needed every role, all in one call too, the screen applied afterwards (the same
        // verdicts, one round trip instead of two for a character whose lines keep moving).
        var track = state.State.Tracks.GetValueOrDefault(speaker.Id);
        var screen = _options.Screen && track?.TakenOver != true && hypotheses.Count > 2;
        var speculate = screen && track?.LastNeededEveryRole == true;
        int[] every = [.. Enumerable.Range(0, hypotheses.Count)];
        int[] firstStage = screen && !speculate ? [0, hypotheses.Count - 1] : every;
        var replies = new ScoreReply[hypotheses.Count];
        var computed = new List<int>(hypotheses.Count);
        double milliseconds = 0;
        var screened = false;
        try
        {
            milliseconds += await ScoreIntoAsync(scene, speaker, hypotheses, firstStage, witnessed, line, replies, cancellationToken);
            computed.AddRange(firstStage);
            screened = screen && replies[0].Tokens > 0 && replies[^1].Tokens > 0
                && MeanOf(replies[0]) - MeanOf(replies[^1]) >= _options.ScreenMargin;
            if (screen && !screened && !speculate)
            {
                int[] secondStage = [.. Enumerable.Range(1, hypotheses.Count - 2)];
                milliseconds += await ScoreIntoAsync(scene, speaker, hypotheses, secondStage, witnessed, line, replies, cancellationToken);
                computed.AddRange(secondStage);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLineScoringFailed(logger, e, Key, line.Index, speaker.Id);
            return record with { Verdict = LineVerdict.Failed, Scores = [], Error = e.Message };
        }

        var paid = computed.Select(i => replies[i]).ToList();
        List<int> scored = screened ? [0, hypotheses.Count - 1] : [.. computed.Order()];
        var used = scored.Select(i => replies[i]).ToList();
        state.State.Cost = state.State.Cost with
        {
            Lines = state.State.Cost.Lines + 1,
            ScoreCalls = state.State.Cost.ScoreCalls + paid.Count,
            ScoredTokens = state.State.Cost.ScoredTokens + paid.Sum(r => (long)r.Tokens),
            PrefillTokens = state.State.Cost.PrefillTokens + paid.Sum(r => (long)r.PrefillTokens),
            Milliseconds = state.State.Cost.Milliseconds + milliseconds,
            ScreenedLines = state.State.Cost.ScreenedLines + (screened ? 1 : 0),
        };
        record = record with { Tokens = replies[0].Tokens, PrefillTokens = paid.Sum(r => r.PrefillTokens), Milliseconds = milliseconds, Screened = screened };
        if (used.Any(r => r.Tokens == 0))
        {
            return record;
        }

        var means = used.Select(MeanOf).ToArray();
        var posterior = RoleAttribution.Posterior(means, _options.Sharpness);
        var judgement = RoleAttribution.Judge(posterior, 0, _options.Threshold, _options.Margin);
        var best = Enumerable.Range(0, posterior.Length).MaxBy(i => posterior[i]);
        return record with
        {
            Verdict = judgement.Verdict,
            AssignedPosterior = posterior[0],
            Best = hypotheses[scored[best]].Id,
            Scores = scored.Select((h, i) => new HypothesisScore(hypotheses[h].Id, hypotheses[h].Kind, hypotheses[h].Role, used[i].LogProbability, means[i], posterior[i])).ToArray(),
        };
    }

    private static double MeanOf(ScoreReply reply) => RoleAttribution.MeanLogLikelihood(reply.LogProbability, reply.Tokens);

    /// <summary>Scores <paramref name="line"/> under the hypotheses at <paramref name="indexes"/> in one call, into <paramref name="replies"/>; returns its milliseconds.</summary>
    private async Task<double> ScoreIntoAsync(
        SceneStart scene, PersonaCard speaker, IReadOnlyList<RoleHypothesis> hypotheses, int[] indexes, IReadOnlyList<SceneLine> witnessed, SceneLine line, ScoreReply[] replies, CancellationToken cancellationToken)
    {
        var (stage, milliseconds) = await ScoreAsync(scene, speaker, await CallsAsync(scene, speaker, [.. indexes.Select(i => hypotheses[i])], [witnessed], line), cancellationToken);
        for (var i = 0; i < indexes.Length; i++)
        {
            replies[indexes[i]] = stage[i];
        }

        return milliseconds;
    }

    /// <summary>
    /// Rescores the first taken-over line under the assigned role and the taker only, with each of the last
    /// <see cref="AttributionOptions.TriggerWindow"/> witnessed lines left out (one batched call); the line whose removal
    /// gives the assigned role the highest posterior against the taker is the trigger, and its restoration is measured
    /// from the same two-way posterior with every line in. A failed search is logged and leaves the takeover without a
    /// trigger.
    /// </summary>
    private async Task<TakeoverTrigger?> FindTriggerAsync(
        SceneStart scene, PersonaCard speaker, RoleHypothesis assigned, RoleHypothesis taker, IReadOnlyList<SceneLine> transcript, RoleObservation first, CancellationToken cancellationToken)
    {
        var line = transcript.First(l => l.Index == first.LineIndex);
        var witnessed = scene.CarriedBy(speaker.Id).Lines.Concat(RoleHypotheses.WitnessedBefore(transcript, speaker.Id, line.Index)).ToList();
        var leftOut = witnessed.TakeLast(_options.TriggerWindow).ToList();
        var recorded = state.State.Lines.LastOrDefault(l => l.Index == line.Index)?.Scores;
        if (leftOut.Count == 0 || recorded?.FirstOrDefault(s => s.Id == taker.Id) is not { } takerScore)
        {
            return null;
        }

        RoleHypothesis[] pair = [assigned, taker];
        IReadOnlyList<ScoreReply> replies;
        double milliseconds;
        try
        {
            var calls = await CallsAsync(scene, speaker, pair, [.. leftOut.Select(removed => witnessed.Where(l => l.Index != removed.Index).ToList())], line);
            (replies, milliseconds) = await ScoreAsync(scene, speaker, calls, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTriggerSearchFailed(logger, e, Key, speaker.Id, line.Index);
            return null;
        }

        state.State.Cost = state.State.Cost with
        {
            TriggerSearches = state.State.Cost.TriggerSearches + 1,
            TriggerPrefillTokens = state.State.Cost.TriggerPrefillTokens + replies.Sum(r => (long)r.PrefillTokens),
            TriggerMilliseconds = state.State.Cost.TriggerMilliseconds + milliseconds,
        };
        var candidates = leftOut.Select((removed, j) =>
            new TriggerCandidate(removed.Index, RoleAttribution.Posterior([MeanOf(replies[2 * j]), MeanOf(replies[(2 * j) + 1])], _options.Sharpness)[0])).ToList();
        var chosen = RoleAttribution.ChooseTrigger(candidates)!;
        var trigger = leftOut.First(l => l.Index == chosen.LineIndex);
        var baseline = RoleAttribution.Posterior([recorded[0].MeanLogProbability, takerScore.MeanLogProbability], _options.Sharpness)[0];
        return new TakeoverTrigger(
            trigger.Index, trigger.Turn, trigger.Kind, trigger.Speaker, trigger.Text, trigger.Kind == LineKind.Intervention,
            chosen.AssignedPosterior, chosen.AssignedPosterior - baseline, candidates);
    }

    /// <summary>
    /// The score calls of <paramref name="line"/>: for each of <paramref name="contexts"/> (the lines witnessed before it,
    /// or those with one left out), one per hypothesis, in that order. Each prompt keeps to the context budget as the
    /// character's own does, so the assigned role's prompt is the one the line was generated from.
    /// </summary>
    private async Task<IReadOnlyList<ScoreCall>> CallsAsync(
        SceneStart scene, PersonaCard speaker, RoleHypothesis[] hypotheses, IReadOnlyList<IReadOnlyList<SceneLine>> contexts, SceneLine line)
    {
        var casting = new CharacterCasting(Key, speaker, scene.Scene.Setting, [.. scene.Cast.Select(c => c.Name)], scene.Sampling, scene.PromptFormat);
        var characterKey = scene.CharacterKey(Key, speaker.Id);
        var characterHasMemory = scene.Memory == MemorySummary.Model || scene.CarriedBy(speaker.Id).Summary is not null;
        var inference = Inference(scene, speaker);
        var calls = new List<ScoreCall>(contexts.Count * hypotheses.Length);
        foreach (var witnessed in contexts)
        {
            // The no-persona script prompt (and with SharedRivals, a rival's nameless one) is the same for the whole
            // cast up to the name cue, unless whispers, or lines it brought from earlier scenes (negative indexes), made
            // what this character witnessed its own.
            var heardByAll = witnessed.All(l => l.To is null && l.Index >= 0);
            foreach (var hypothesis in hypotheses)
            {
                var nameless = _options.SharedRivals && heardByAll && RoleHypotheses.IsRival(hypothesis);
                var prompt = await RoleHypotheses.PromptAsync(_budget, inference, hypothesis, casting, witnessed, nameless);
                var shared = prompt.Messages is null && heardByAll && (nameless || hypothesis.Kind == HypothesisKind.Neutral);
                calls.Add(new ScoreCall(
                    shared
                        ? RoleHypotheses.SharedSessionKey(Key, hypothesis.Id)
                        : RoleHypotheses.SessionKey(characterKey, hypothesis.Id, characterHasMemory),
                    prompt.Text,
                    RoleHypotheses.Continuation(line, chat: prompt.Messages is not null),
                    prompt.Messages));
            }
        }

        return calls;
    }

    /// <summary>
    /// The inference grain of <paramref name="speaker"/>'s lane: the pool that holds the character's own session (the
    /// assigned role's prompt) and so all its hypothesis sessions, beside the character's cached KV.
    /// </summary>
    private IInferenceGrain Inference(SceneStart scene, PersonaCard speaker) => GrainFactory.Inference(scene.CharacterKey(Key, speaker.Id));

    private async Task<(IReadOnlyList<ScoreReply> Replies, double Milliseconds)> ScoreAsync(SceneStart scene, PersonaCard speaker, IReadOnlyList<ScoreCall> calls, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var replies = await Inference(scene, speaker).Score(calls, cancellationToken);
        return (replies, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static string ScenarioName(SceneStart scene) => scene.Scenario ?? scene.RunId;

    /// <summary>The one place a takeover becomes known: log, <c>role.takeover</c> span event, takeovers counter.</summary>
    private void OnTakeover(SceneStart scene, RoleTakeover takeover)
    {
        LogTakeover(logger, Key, takeover.Character, takeover.Turn, takeover.AssignedRole, takeover.TakenOverBy, takeover.Posterior, takeover.Trigger?.LineIndex);
        TheaterTelemetry.RecordTakeover(new RoleShift(
            ScenarioName(scene), takeover.CharacterId, takeover.AssignedRole, takeover.TakenOverByRole, takeover.Posterior, takeover.Trigger?.LineIndex ?? -1));
    }

    /// <summary>The one place a recovery becomes known: log, <c>role.recovered</c> span event, recoveries counter.</summary>
    private void OnRecovered(SceneStart scene, RoleTakeover takeover, double posterior)
    {
        LogRecovered(logger, Key, takeover.Character, takeover.RecoveredTurn ?? -1, takeover.AssignedRole, posterior);
        TheaterTelemetry.RecordRecovery(new RoleShift(
            ScenarioName(scene), takeover.CharacterId, takeover.TakenOverByRole, takeover.AssignedRole, posterior, takeover.Trigger?.LineIndex ?? -1));
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Scene {Scene}: {Character} taken over from turn {Turn}: {AssignedRole} -> {TakenOverBy} (assigned posterior {Posterior:F3}, trigger line {TriggerLine})")]
    private static partial void LogTakeover(ILogger logger, string scene, string character, int turn, string assignedRole, string takenOverBy, double posterior, int? triggerLine);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Scene {Scene}: {Character} recovered at turn {Turn}: back to {AssignedRole} (assigned posterior {Posterior:F3})")]
    private static partial void LogRecovered(ILogger logger, string scene, string character, int turn, string assignedRole, double posterior);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Scene {Scene}: scoring line {Line} of {Character} failed; the line is left unattributed")]
    private static partial void LogLineScoringFailed(ILogger logger, Exception exception, string scene, int line, string character);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "Scene {Scene}: the trigger search for {Character}'s takeover at line {Line} failed; the takeover has no trigger")]
    private static partial void LogTriggerSearchFailed(ILogger logger, Exception exception, string scene, string character, int line);
}
