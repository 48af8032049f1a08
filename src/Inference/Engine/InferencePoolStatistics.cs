namespace AgentTheater.Inference.Engine;

/// <summary>One decode step of the pool.</summary>
/// <param name="BatchTokens">Tokens in the <c>llama_decode</c> call.</param>
/// <param name="DecodeTokens">Of those, one per generating sequence.</param>
/// <param name="PrefillTokens">Of those, prompt tokens.</param>
/// <param name="RunningRequests">Requests holding a sequence.</param>
/// <param name="WaitingRequests">Requests waiting for a sequence.</param>
/// <param name="DecodeTime">Time inside <c>llama_decode</c>.</param>
/// <param name="SampleTime">Time sampling and scoring after it.</param>
public readonly record struct PoolStep(
    int BatchTokens,
    int DecodeTokens,
    int PrefillTokens,
    int RunningRequests,
    int WaitingRequests,
    TimeSpan DecodeTime,
    TimeSpan SampleTime);

/// <summary>Counters of an <see cref="InferencePool"/> since it started; safe to read from any thread.</summary>
public sealed class InferencePoolStatistics
{
    private long _steps;
    private long _batchTokens;
    private long _decodeTokens;
    private long _prefillTokens;
    private long _promptTokens;
    private long _reusedTokens;
    private long _generated;
    private long _queued;
    private long _inFlight;
    private long _running;
    private long _rejected;
    private long _cancelled;
    private long _failed;
    private long _evicted;
    private long _forks;
    private long _shifts;
    private long _shiftedTokens;
    private long _droppedTokens;
    private long _trimReprefillTokens;
    private long _saves;
    private long _restores;
    private long _restoreTicks;
    private long _reprefillTokens;
    private long _waiting;
    private long _admissionWaits;
    private long _admissionWaitTicks;

    /// <summary>Decode steps run.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Tokens decoded in all steps.</summary>
    public long BatchTokens => Interlocked.Read(ref _batchTokens);

    /// <summary>Single-token decode positions (generation).</summary>
    public long DecodeTokens => Interlocked.Read(ref _decodeTokens);

    /// <summary>Prompt tokens decoded.</summary>
    public long PrefillTokens => Interlocked.Read(ref _prefillTokens);

    /// <summary>Prompt tokens of admitted requests (decoded or reused).</summary>
    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    /// <summary>Prompt tokens served from a session's cached prefix.</summary>
    public long ReusedTokens => Interlocked.Read(ref _reusedTokens);

    /// <summary>Tokens generated.</summary>
    public long GeneratedTokens => Interlocked.Read(ref _generated);

    /// <summary>Requests accepted by admission control.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Requests queued or running now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Requests holding a sequence now.</summary>
    public long Running => Interlocked.Read(ref _running);

    /// <summary>Requests refused because the queue was full.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Requests cancelled.</summary>
    public long Cancelled => Interlocked.Read(ref _cancelled);

    /// <summary>Requests failed (cancellation included).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Idle sessions whose sequence was given to another session.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>Sequences created by forks.</summary>
    public long ForkedSequences => Interlocked.Read(ref _forks);

    /// <summary>Context shifts: a chunk of cached tokens in the middle of a sequence removed and the rest moved back, instead of a re-prefill.</summary>
    public long ContextShifts => Interlocked.Read(ref _shifts);

    /// <summary>Cached tokens that context shifts moved back (and so kept without prefill).</summary>
    public long ShiftedTokens => Interlocked.Read(ref _shiftedTokens);

    /// <summary>Cached tokens that context shifts removed from the middle of sequences.</summary>
    public long ContextDroppedTokens => Interlocked.Read(ref _droppedTokens);

    /// <summary>
    /// Tokens prefilled again because a prompt dropped a chunk of its middle and the cache could not (or was told not
    /// to) shift: what context shifting would have saved.
    /// </summary>
    public long TrimReprefillTokens => Interlocked.Read(ref _trimReprefillTokens);

    /// <summary>Evicted sessions whose KV state went to the host tier.</summary>
    public long Saves => Interlocked.Read(ref _saves);

    /// <summary>Sessions given their KV state back from the host tier instead of prefilling it again.</summary>
    public long Restores => Interlocked.Read(ref _restores);

    /// <summary>Time spent restoring sessions from the host tier.</summary>
    public TimeSpan RestoreTime => TimeSpan.FromTicks(Interlocked.Read(ref _restoreTicks));

    /// <summary>
    /// Tokens prefilled again that a session held in its cache before it lost its sequence (evicted with no room in
    /// the host tier, or dropped from it): the prefill that more sequences or a larger tier would have saved.
    /// </summary>
    public long ReprefillTokens => Interlocked.Read(ref _reprefillTokens);

    /// <summary>Bytes of KV state in the host tier now.</summary>
    public long HostKvBytes => HostTier?.Bytes ?? 0;

    /// <summary>Share of admitted prompt tokens that came from the cache.</summary>
    public double PrefixReuseRatio => PromptTokens == 0 ? 0 : (double)ReusedTokens / PromptTokens;

    /// <summary>Callers waiting for room in a full queue (<see cref="InferencePoolOptions.WaitWhenBusy"/>).</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <summary>Requests that found the queue full and waited for room (or gave up waiting).</summary>
    public long AdmissionWaits => Interlocked.Read(ref _admissionWaits);

    /// <summary>Time those requests spent waiting for room, summed.</summary>
    public TimeSpan AdmissionWaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _admissionWaitTicks));

    internal void OnWaitStarted()
    {
        Interlocked.Increment(ref _waiting);
        Interlocked.Increment(ref _admissionWaits);
    }

    internal void OnWaitEnded(TimeSpan waited)
    {
        Interlocked.Decrement(ref _waiting);
        Interlocked.Add(ref _admissionWaitTicks, waited.Ticks);
    }

    internal void OnQueued()
    {
        Interlocked.Increment(ref _queued);
        Interlocked.Increment(ref _inFlight);
    }

    internal void OnAdmitted(int promptTokens, int reused)
    {
        Interlocked.Increment(ref _running);
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _reusedTokens, reused);
    }

    internal void OnFinished() => Interlocked.Decrement(ref _inFlight);

    internal void OnReleased() => Interlocked.Decrement(ref _running);

    internal void OnRejected() => Interlocked.Increment(ref _rejected);

    internal void OnCancelled() => Interlocked.Increment(ref _cancelled);

    internal void OnFailed() => Interlocked.Increment(ref _failed);

    internal void OnEvicted() => Interlocked.Increment(ref _evicted);

    internal void OnForked(int count) => Interlocked.Add(ref _forks, count);

    internal void OnShifted(int dropped, int kept)
    {
        Interlocked.Increment(ref _shifts);
        Interlocked.Add(ref _droppedTokens, dropped);
        Interlocked.Add(ref _shiftedTokens, kept);
    }

    internal void OnTrimReprefill(int tokens) => Interlocked.Add(ref _trimReprefillTokens, tokens);

    internal HostKvTier? HostTier { get; set; }

    internal void OnSaved() => Interlocked.Increment(ref _saves);

    internal void OnRestored(TimeSpan took)
    {
        Interlocked.Increment(ref _restores);
        Interlocked.Add(ref _restoreTicks, took.Ticks);
    }

    internal void OnReprefill(int tokens) => Interlocked.Add(ref _reprefillTokens, tokens);

    internal void OnGenerated() => Interlocked.Increment(ref _generated);

    internal void OnStep(PoolStep step)
    {
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _batchTokens, step.BatchTokens);
        Interlocked.Add(ref _decodeTokens, step.DecodeTokens);
        Interlocked.Add(ref _prefillTokens, step.PrefillTokens);
    }
}
