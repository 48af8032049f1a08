using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>
/// The theater's one place for telemetry: the <see cref="ActivitySource"/> and <see cref="Meter"/> named
/// <see cref="Name"/>, the names of every span, span event, attribute and metric tag, and the instruments.
/// Everything here is cheap when nothing listens (no exporter configured), so grains call it unconditionally.
/// </summary>
public static class TheaterTelemetry
{
    /// <summary>Name of the activity source and of the meter.</summary>
    public const string Name = "AgentTheater";

    /// <summary>Meter of the Orleans runtime (its activity sources are <c>Orleans.Diagnostics.ActivitySources</c>).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    private static readonly ConcurrentDictionary<InferencePool, byte> ObservedPools = new();

    /// <summary>Spans of the theater.</summary>
    public static ActivitySource Source { get; } = new(Name, typeof(TheaterTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Instruments of the theater.</summary>
    public static Meter Meter { get; } = new(Name, typeof(TheaterTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Character lines spoken (tags <see cref="Tags.Scenario"/>, <see cref="Tags.Character"/>).</summary>
    public static Counter<long> Lines { get; } = Meter.CreateCounter<long>(Instruments.Lines, "{line}", "Character lines spoken.");

    /// <summary>Tokens generated for character lines (tags scenario, character).</summary>
    public static Counter<long> GeneratedTokens { get; } = Meter.CreateCounter<long>(Instruments.GeneratedTokens, "{token}", "Tokens generated for character lines.");

    /// <summary>Prompt tokens prefilled for character lines, cached prefixes excluded (tags scenario, character).</summary>
    public static Counter<long> PrefilledTokens { get; } = Meter.CreateCounter<long>(Instruments.PrefilledTokens, "{token}", "Prompt tokens prefilled for character lines (cached prefixes excluded).");

    /// <summary>Role takeovers detected (tags scenario, character, from_role, to_role).</summary>
    public static Counter<long> Takeovers { get; } = Meter.CreateCounter<long>(Instruments.Takeovers, "{takeover}", "Characters detected playing another role than their own.");

    /// <summary>Recoveries from a takeover (tags scenario, character, from_role, to_role).</summary>
    public static Counter<long> Recoveries { get; } = Meter.CreateCounter<long>(Instruments.Recoveries, "{recovery}", "Characters detected back in their own role after a takeover.");

    /// <summary>Time from the start of a character turn to its stored line (tag scenario).</summary>
    public static Histogram<double> TurnDuration { get; } = Meter.CreateHistogram(
        Instruments.TurnDuration,
        "s",
        "Time from the start of a character turn to its stored line.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250] });

    /// <summary>Tokens in each decode step of the pool (how full the batches are).</summary>
    public static Histogram<int> BatchSize { get; } = Meter.CreateHistogram(
        Instruments.BatchSize,
        "{token}",
        "Tokens in each decode step of the inference pool.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096] });

    /// <summary>Requests waiting for a sequence, over the observed pools of this process.</summary>
    public static ObservableGauge<long> QueueDepth { get; } = Meter.CreateObservableGauge(
        Instruments.QueueDepth,
        () => ObservedPools.Keys.Sum(p => Math.Max(0, p.Statistics.InFlight - p.Statistics.Running)),
        "{request}",
        "Requests waiting for a pool sequence.");

    /// <summary>Callers waiting for room in a full pool queue, over the observed pools of this process.</summary>
    public static ObservableGauge<long> AdmissionWaiting { get; } = Meter.CreateObservableGauge(
        Instruments.AdmissionWaiting,
        () => ObservedPools.Keys.Sum(p => p.Statistics.Waiting),
        "{request}",
        "Callers waiting for room in a full pool queue (Inference:MaxQueuedRequests).");

    /// <summary>Requests that found the pool queue full and waited.</summary>
    public static ObservableCounter<long> AdmissionWaits { get; } = Meter.CreateObservableCounter(
        Instruments.AdmissionWaits,
        () => ObservedPools.Keys.Sum(p => p.Statistics.AdmissionWaits),
        "{request}",
        "Requests that found the pool queue full and waited for room.");

    /// <summary>Time requests spent waiting for room in a full pool queue, summed (divide by the waits for the mean).</summary>
    public static ObservableCounter<double> AdmissionWaitTime { get; } = Meter.CreateObservableCounter(
        Instruments.AdmissionWaitTime,
        () => ObservedPools.Keys.Sum(p => p.Statistics.AdmissionWaitTime.TotalSeconds),
        "s",
        "Time requests spent waiting for room in a full pool queue.");

    /// <summary>Sequences held by a running request, over the observed pools of this process.</summary>
    public static ObservableGauge<long> SequencesInUse { get; } = Meter.CreateObservableGauge(
        Instruments.SequencesInUse,
        () => ObservedPools.Keys.Sum(p => p.Statistics.Running),
        "{sequence}",
        "Pool sequences held by a running request.");

    /// <summary>Share of admitted prompt tokens served from cached session prefixes, since the pools started.</summary>
    public static ObservableGauge<double> PrefixReuseRatio { get; } = Meter.CreateObservableGauge(
        Instruments.PrefixReuseRatio,
        ObservePrefixReuse,
        "1",
        "Share of admitted prompt tokens served from cached session prefixes.");

    /// <summary>Context shifts of the observed pools since they started: dropped chunks removed from a cache instead of prefilled again.</summary>
    public static ObservableCounter<long> ContextShifts { get; } = Meter.CreateObservableCounter(
        Instruments.ContextShifts,
        () => ObservedPools.Keys.Sum(p => p.Statistics.ContextShifts),
        "{shift}",
        "Context shifts: a dropped chunk of a session's prompt removed from its KV cache and the rest moved back.");

    /// <summary>Evicted sessions saved to the host KV tier, over the observed pools.</summary>
    public static ObservableCounter<long> KvSaves { get; } = Meter.CreateObservableCounter(
        Instruments.KvSaves,
        () => ObservedPools.Keys.Sum(p => p.Statistics.Saves),
        "{session}",
        "Evicted sessions whose KV state went to the host tier.");

    /// <summary>Sessions restored from the host KV tier, over the observed pools.</summary>
    public static ObservableCounter<long> KvRestores { get; } = Meter.CreateObservableCounter(
        Instruments.KvRestores,
        () => ObservedPools.Keys.Sum(p => p.Statistics.Restores),
        "{session}",
        "Sessions given their KV state back from the host tier instead of prefilling it again.");

    /// <summary>Time spent restoring sessions from the host KV tier.</summary>
    public static ObservableCounter<double> KvRestoreTime { get; } = Meter.CreateObservableCounter(
        Instruments.KvRestoreTime,
        () => ObservedPools.Keys.Sum(p => p.Statistics.RestoreTime.TotalSeconds),
        "s",
        "Time spent restoring sessions from the host KV tier.");

    /// <summary>Bytes of KV state in the host tier now.</summary>
    public static ObservableGauge<long> KvHostBytes { get; } = Meter.CreateObservableGauge(
        Instruments.KvHostBytes,
        () => ObservedPools.Keys.Sum(p => p.Statistics.HostKvBytes),
        "By",
        "Bytes of KV state held in the host tier.");

    /// <summary>Tokens prefilled again that a session held before it lost its sequence.</summary>
    public static ObservableCounter<long> ReprefilledTokens { get; } = Meter.CreateObservableCounter(
        Instruments.ReprefilledTokens,
        () => ObservedPools.Keys.Sum(p => p.Statistics.ReprefillTokens),
        "{token}",
        "Tokens prefilled again that a session held in its cache before it lost its sequence.");

    /// <summary>
    /// Starts the <see cref="Spans.RoleAttribute"/> span for attributing one line of <paramref name="character"/>;
    /// call <see cref="RecordTakeover"/> or <see cref="RecordRecovery"/> inside it. Null when nothing listens.
    /// </summary>
    public static Activity? StartRoleAttribution(string scenario, string scene, string character, int turn) =>
        Source.StartActivity(Spans.RoleAttribute)?
            .SetTag(Attributes.Scenario, scenario)
            .SetTag(Attributes.Scene, scene)
            .SetTag(Attributes.Character, character)
            .SetTag(Attributes.Turn, turn);

    /// <summary>
    /// A character was taken over: adds the <see cref="Events.RoleTakeover"/> event to the current span (the
    /// <see cref="Spans.RoleAttribute"/> span from <see cref="StartRoleAttribution"/>) and counts it in
    /// <see cref="Takeovers"/>.
    /// </summary>
    public static void RecordTakeover(RoleShift shift) => RecordShift(Events.RoleTakeover, Takeovers, shift);

    /// <summary>
    /// A taken-over character is back in its role (<paramref name="shift"/> goes from the foreign role back to its
    /// own): adds the <see cref="Events.RoleRecovered"/> event to the current span and counts it in
    /// <see cref="Recoveries"/>.
    /// </summary>
    public static void RecordRecovery(RoleShift shift) => RecordShift(Events.RoleRecovered, Recoveries, shift);

    /// <summary>
    /// A run of <paramref name="scenario"/> starts: its takeover and recovery series start at zero, so they are
    /// exported (and a dashboard shows 0, not "no data") before the first takeover, and the first one counts in rates.
    /// </summary>
    public static void RunStarted(string scenario)
    {
        var tags = new TagList { { Tags.Scenario, scenario } };
        Takeovers.Add(0, tags);
        Recoveries.Add(0, tags);
    }

    /// <summary>Counts a character line and its tokens.</summary>
    public static void RecordLine(string scenario, string character, int generatedTokens, int prefilledTokens)
    {
        var tags = new TagList { { Tags.Scenario, scenario }, { Tags.Character, character } };
        Lines.Add(1, tags);
        GeneratedTokens.Add(generatedTokens, tags);
        PrefilledTokens.Add(prefilledTokens, tags);
    }

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="exception"/> (type, message, stack as an event).</summary>
    public static void RecordError(this Activity? activity, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message).AddException(exception);
    }

    /// <summary>
    /// Feeds the pool instruments from <paramref name="pool"/> (batch sizes from <see cref="InferencePool.StepCompleted"/>,
    /// the gauges from its statistics) until the returned handle is disposed.
    /// </summary>
    public static IDisposable Observe(InferencePool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return new PoolObservation(pool);
    }

    private static void RecordShift(string eventName, Counter<long> counter, RoleShift shift)
    {
        ArgumentNullException.ThrowIfNull(shift);
        Activity.Current?.AddEvent(new ActivityEvent(eventName, tags: new ActivityTagsCollection
        {
            { Attributes.Character, shift.Character },
            { Attributes.TakeoverFromRole, shift.FromRole },
            { Attributes.TakeoverToRole, shift.ToRole },
            { Attributes.TakeoverPosterior, shift.Posterior },
            { Attributes.TakeoverTriggerLine, shift.TriggerLine },
        }));
        counter.Add(1, new TagList
        {
            { Tags.Scenario, shift.Scenario },
            { Tags.Character, shift.Character },
            { Tags.FromRole, shift.FromRole },
            { Tags.ToRole, shift.ToRole },
        });
    }

    private static double ObservePrefixReuse()
    {
        long prompt = 0, reused = 0;
        foreach (var pool in ObservedPools.Keys)
        {
            prompt += pool.Statistics.PromptTokens;
            reused += pool.Statistics.ReusedTokens;
        }

        return prompt == 0 ? 0 : (double)reused / prompt;
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        /// <summary>A scenario run, from its start to the end of its last scene.</summary>
        public const string ScenarioRun = "scenario.run";

        /// <summary>One scene replica playing, from its first line to its end (a resumed scene starts a new one in the same trace).</summary>
        public const string ScenePlay = "scene.play";

        /// <summary>One character turn of a scene: interventions due, speaker choice, the line, its broadcast.</summary>
        public const string SceneTurn = "scene.turn";

        /// <summary>A character builds its prompt and speaks one line.</summary>
        public const string CharacterSpeak = "character.speak";

        /// <summary>One generation in the pool.</summary>
        public const string InferenceGenerate = "inference.generate";

        /// <summary>A batch of scoring requests in the pool (the director's choice of speaker).</summary>
        public const string InferenceScore = "inference.score";

        /// <summary>Role attribution of one line (see <see cref="StartRoleAttribution"/>).</summary>
        public const string RoleAttribute = "role.attribute";

        /// <summary>A scene forked into branches: its characters' sequences copied in the pool.</summary>
        public const string SceneFork = "scene.fork";

        /// <summary>One session's sequence brought to a prompt and copied into others.</summary>
        public const string InferenceFork = "inference.fork";
    }

    /// <summary>Span event names.</summary>
    public static class Events
    {
        /// <summary>A character started playing another role than its own.</summary>
        public const string RoleTakeover = "role.takeover";

        /// <summary>A taken-over character is back in its own role.</summary>
        public const string RoleRecovered = "role.recovered";
    }

    /// <summary>Span and span event attribute names.</summary>
    public static class Attributes
    {
        /// <summary>Run id.</summary>
        public const string Run = "agent_theater.run";

        /// <summary>Scenario name.</summary>
        public const string Scenario = "agent_theater.scenario";

        /// <summary>Scene replica key (<c>{run}/{scene}/{replica}</c>).</summary>
        public const string Scene = "agent_theater.scene";

        /// <summary>Scene replicas a run starts.</summary>
        public const string Scenes = "agent_theater.scenes";

        /// <summary>Character (persona) id.</summary>
        public const string Character = "agent_theater.character";

        /// <summary>Character turn number.</summary>
        public const string Turn = "agent_theater.turn";

        /// <summary>Transcript index of the line.</summary>
        public const string Line = "agent_theater.line";

        /// <summary>True on a scene loop resumed from its stored transcript, or a line returned again without generating.</summary>
        public const string Resumed = "agent_theater.resumed";

        /// <summary>Witnessed lines the speaker's prompt left out for its context budget.</summary>
        public const string OmittedLines = "agent_theater.omitted_lines";

        /// <summary>Why a scene ended.</summary>
        public const string EndReason = "agent_theater.end_reason";

        /// <summary>Pool session key.</summary>
        public const string Session = "agent_theater.session";

        /// <summary>Milliseconds the request waited for a pool sequence.</summary>
        public const string QueueMilliseconds = "agent_theater.queue_ms";

        /// <summary>Prompt tokens decoded (not served from the session's cached prefix).</summary>
        public const string PrefillTokens = "agent_theater.prefill_tokens";

        /// <summary>Prompt tokens in all.</summary>
        public const string PromptTokens = "agent_theater.prompt_tokens";

        /// <summary>Tokens generated (one decode position each).</summary>
        public const string DecodeTokens = "agent_theater.decode_tokens";

        /// <summary>Why generation stopped.</summary>
        public const string FinishReason = "agent_theater.finish_reason";

        /// <summary>Scoring requests in one call.</summary>
        public const string Requests = "agent_theater.requests";

        /// <summary>The role the character was attributed before the shift.</summary>
        public const string TakeoverFromRole = "takeover.from_role";

        /// <summary>The role it is attributed now.</summary>
        public const string TakeoverToRole = "takeover.to_role";

        /// <summary>Posterior probability of <see cref="TakeoverToRole"/>.</summary>
        public const string TakeoverPosterior = "takeover.posterior";

        /// <summary>Transcript index of the line that triggered the shift.</summary>
        public const string TakeoverTriggerLine = "takeover.trigger_line";
    }

    /// <summary>Metric tag names (Prometheus labels); low cardinality only: no scene keys, no run ids.</summary>
    public static class Tags
    {
        /// <summary>Scenario name.</summary>
        public const string Scenario = "scenario";

        /// <summary>Character (persona) id.</summary>
        public const string Character = "character";

        /// <summary>Role before a shift.</summary>
        public const string FromRole = "from_role";

        /// <summary>Role after a shift.</summary>
        public const string ToRole = "to_role";
    }

    /// <summary>
    /// Instrument names. Prometheus turns dots into underscores, adds the unit (<c>_seconds</c>, <c>_ratio</c>) and
    /// <c>_total</c> to counters, and <c>_bucket</c>/<c>_sum</c>/<c>_count</c> to histograms (docs/telemetry.md).
    /// </summary>
    public static class Instruments
    {
        /// <summary>Counter: character lines.</summary>
        public const string Lines = "agent_theater.lines";

        /// <summary>Counter: tokens generated.</summary>
        public const string GeneratedTokens = "agent_theater.tokens.generated";

        /// <summary>Counter: prompt tokens prefilled.</summary>
        public const string PrefilledTokens = "agent_theater.tokens.prefilled";

        /// <summary>Counter: takeovers.</summary>
        public const string Takeovers = "agent_theater.takeovers";

        /// <summary>Counter: recoveries.</summary>
        public const string Recoveries = "agent_theater.recoveries";

        /// <summary>Histogram: turn latency in seconds.</summary>
        public const string TurnDuration = "agent_theater.turn.duration";

        /// <summary>Histogram: tokens per decode step.</summary>
        public const string BatchSize = "agent_theater.pool.batch.size";

        /// <summary>Gauge: requests waiting for a sequence.</summary>
        public const string QueueDepth = "agent_theater.pool.queue.depth";

        /// <summary>Gauge: callers waiting for room in a full queue.</summary>
        public const string AdmissionWaiting = "agent_theater.pool.admission.waiting";

        /// <summary>Counter: requests that found the queue full and waited.</summary>
        public const string AdmissionWaits = "agent_theater.pool.admission.waits";

        /// <summary>Counter: seconds spent waiting for room in a full queue.</summary>
        public const string AdmissionWaitTime = "agent_theater.pool.admission.wait_time";

        /// <summary>Gauge: sequences in use.</summary>
        public const string SequencesInUse = "agent_theater.pool.sequences.in_use";

        /// <summary>Gauge: prefix reuse ratio.</summary>
        public const string PrefixReuseRatio = "agent_theater.pool.prefix_reuse.ratio";

        /// <summary>Counter: context shifts of the pools.</summary>
        public const string ContextShifts = "agent_theater.pool.context_shifts";

        /// <summary>Counter: sessions saved to the host KV tier.</summary>
        public const string KvSaves = "agent_theater.pool.kv.saves";

        /// <summary>Counter: sessions restored from the host KV tier.</summary>
        public const string KvRestores = "agent_theater.pool.kv.restores";

        /// <summary>Counter: seconds spent restoring from the host KV tier.</summary>
        public const string KvRestoreTime = "agent_theater.pool.kv.restore.time";

        /// <summary>Gauge: bytes in the host KV tier.</summary>
        public const string KvHostBytes = "agent_theater.pool.kv.host.bytes";

        /// <summary>Counter: tokens prefilled again after a session lost its sequence.</summary>
        public const string ReprefilledTokens = "agent_theater.pool.tokens.reprefilled";
    }

    private sealed class PoolObservation : IDisposable
    {
        private readonly InferencePool _pool;
        private int _disposed;

        public PoolObservation(InferencePool pool)
        {
            _pool = pool;
            ObservedPools.TryAdd(pool, 0);
            pool.StepCompleted += OnStep;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _pool.StepCompleted -= OnStep;
                ObservedPools.TryRemove(_pool, out _);
            }
        }

        private static void OnStep(PoolStep step) => BatchSize.Record(step.BatchTokens);
    }
}

/// <summary>A change of the role a character plays, as role attribution detected it.</summary>
/// <param name="Scenario">Scenario name.</param>
/// <param name="Character">Character (persona) id.</param>
/// <param name="FromRole">Role attributed before (the character's own role, for a takeover).</param>
/// <param name="ToRole">Role attributed now (the character's own role, for a recovery).</param>
/// <param name="Posterior">Posterior probability of <paramref name="ToRole"/>.</param>
/// <param name="TriggerLine">Transcript index of the line that triggered the shift.</param>
public sealed record RoleShift(string Scenario, string Character, string FromRole, string ToRole, double Posterior, int TriggerLine);
