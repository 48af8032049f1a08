using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

public sealed partial class InferencePool
{
    /// <summary>Fewest cached tokens worth saving to the host tier; fewer are prefilled again.</summary>
    private const int MinimumParkedTokens = 16;

    private readonly List<(PoolJob Job, int BatchIndex, int TokenIndex)> _outputs = [];
    private readonly List<(PoolJob Job, int Count)> _fed = [];
    private readonly List<(PoolJob Job, int Count)> _plan = [];
    private float[] _logSoftmaxBuffer = [];

    private void RunScheduler()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                DrainInbox();
                AdmitWaiting();
                if (!BuildBatch())
                {
                    _wake.Wait(_stopping.Token);
                    continue;
                }

                _stepping = true;
                Step();
                _stepping = false;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Whatever broke, fail the requests of this step and keep serving.
                LogSchedulerError(_logger, e);
                if (_stepping)
                {
                    _stepping = false;
                    FailBatch(new InferenceException($"Inference step failed: {e.Message}"));
                }
            }
        }

        var stopped = new ObjectDisposedException(nameof(InferencePool));
        DrainInbox();
        foreach (var job in _running.Concat(_waiting).ToList())
        {
            Finish(job, stopped);
        }

        foreach (var fork in _waitingForks)
        {
            fork.Result.TrySetException(stopped);
        }
    }

    private void DrainInbox()
    {
        while (_inbox.TryDequeue(out var command))
        {
            switch (command)
            {
                case PoolJob job:
                    _waiting.Add(job);
                    break;
                case CancelCommand cancel:
                    if (!cancel.Job.Finished)
                    {
                        Statistics.OnCancelled();
                        Finish(cancel.Job, new OperationCanceledException("The request was cancelled."));
                    }

                    break;
                case ForkJob fork:
                    _waitingForks.Add(fork);
                    break;
                case ForgetCommand forget:
                    lock (_sessions)
                    {
                        if (_sessions.Remove(forget.Session, out var slot))
                        {
                            slot.Session = null;
                            slot.Pins = 0;
                        }
                    }

                    _hostTier?.Remove(forget.Session);
                    _diskTier?.Remove(forget.Session);
                    _lost.Remove(forget.Session);
                    break;
            }
        }
    }

    /// <summary>Gives waiting jobs a sequence: their session's, a free one, or the least recently used idle one.</summary>
    private void AdmitWaiting()
    {
        for (var i = 0; i < _waitingForks.Count; i++)
        {
            if (TryFork(_waitingForks[i]))
            {
                _waitingForks.RemoveAt(i--);
            }
        }

        for (var i = 0; i < _waiting.Count; i++)
        {
            var job = _waiting[i];
            var slot = FindSlot(job.Session);
            if (slot is null)
            {
                continue;
            }

            _waiting.RemoveAt(i--);
            Attach(job, slot);
        }
    }

    private SequenceSlot? FindSlot(string? session)
    {
        lock (_sessions)
        {
            if (session is not null && _sessions.TryGetValue(session, out var own))
            {
                return own.IsIdle ? own : null;
            }

            var slot = _slots.FirstOrDefault(s => s.IsIdle && s.Session is null)
                ?? _slots.Where(s => s.IsEvictable).MinBy(s => s.LastUsed);
            if (slot is null)
            {
                return null;
            }

            if (slot.Session is not null)
            {
                _sessions.Remove(slot.Session);
                Statistics.OnEvicted();
                Park(slot);
            }

            slot.Session = session;
            if (session is not null)
            {
                _sessions[session] = slot;
            }

            return slot;
        }
    }

    private void Attach(PoolJob job, SequenceSlot slot)
    {
        Unpark(job, slot);
        var reuse = Reusable(CollectionsMarshal.AsSpan(slot.Cached), job);
        reuse += ShiftDroppedChunk(slot, job, reuse);
        if (reuse < slot.Cached.Count && !_context.RemoveTokens(slot.Id, reuse))
        {
            _context.RemoveTokens(slot.Id);
            reuse = 0;
        }

        slot.Cached.RemoveRange(reuse, slot.Cached.Count - reuse);
        slot.Job = job;
        slot.LastUsed = ++_clock;
        job.Slot = slot;
        job.FeedIndex = reuse;
        job.PrefillTokens = job.Tokens.Length - reuse;
        job.AdmittedAt = Stopwatch.GetTimestamp();
        if (job is GenerateJob generate)
        {
            generate.Sampler = new TokenSampler(generate.Sampling, job.Tokens);
        }

        Statistics.OnAdmitted(job.Tokens.Length, reuse);
        if (job is PrefillJob { InPrefill: false } cached)
        {
            // Everything was cached already: the trim above was all there was to do.
            Release(cached);
            cached.Complete(slot);
            return;
        }

        _running.Add(job);
    }

    /// <summary>
    /// When the job's tokens after the cached common prefix (<paramref name="prefix"/> tokens) continue what the
    /// sequence caches a chunk further on (a prompt that dropped its oldest lines), removes that chunk's cells and moves
    /// the rest back so they follow the prefix. Returns how many more tokens the job reuses (0 when nothing matched well
    /// enough, or the cache cannot or may not shift, in which case the tokens are prefilled again and counted).
    /// </summary>
    private int ShiftDroppedChunk(SequenceSlot slot, PoolJob job, int prefix)
    {
        var cached = slot.Cached;
        if (prefix >= cached.Count || prefix >= job.ReusableLimit)
        {
            return 0;
        }

        var (dropped, kept) = DroppedChunk.Find(CollectionsMarshal.AsSpan(cached), job.Tokens, prefix);
        kept = Math.Min(kept, job.ReusableLimit - prefix);
        if (kept < DroppedChunk.MinimumKeptTokens)
        {
            return 0;
        }

        if (!_options.ContextShift || !_canShift)
        {
            Statistics.OnTrimReprefill(kept);
            return 0;
        }

        var end = prefix + dropped + kept;
        if ((end < cached.Count && !_context.RemoveTokens(slot.Id, end)) || !_context.RemoveTokens(slot.Id, prefix, prefix + dropped))
        {
            // The cache refused a partial removal: Attach clears what is left and prefills.
            return 0;
        }

        _context.ShiftPositions(slot.Id, prefix + dropped, end, -dropped);
        cached.RemoveRange(end, cached.Count - end);
        cached.RemoveRange(prefix, dropped);
        Statistics.OnShifted(dropped, kept);
        return kept;
    }

    /// <summary>
    /// An evicted session's sequence: its KV state goes to the host tier when there is one and it holds enough to be
    /// worth it; otherwise (or when the tier drops it later) its tokens are remembered, to count what its return
    /// prefills again.
    /// </summary>
    private void Park(SequenceSlot slot)
    {
        var session = slot.Session!;
        int[] tokens = [.. slot.Cached];
        if (tokens.Length < MinimumParkedTokens || (_hostTier is null && _diskTier is null))
        {
            Lose(session, tokens);
            return;
        }

        var state = _context.SaveSequence(slot.Id);
        if (_hostTier is not null)
        {
            if (_hostTier.Save(session, state, tokens, Spill))
            {
                Statistics.OnSaved();
                return;
            }

            if (!_warnedTierTooSmall)
            {
                _warnedTierTooSmall = true;
                LogHostTierTooSmall(_logger, state.Length, tokens.Length, _hostTier.BudgetBytes);
            }
        }

        if (_diskTier is not null && _diskTier.Save(session, state, tokens))
        {
            Statistics.OnSaved();
            return;
        }

        Lose(session, tokens);
    }

    /// <summary>A session the host tier has no room for: to the disk tier when there is one, else its tokens are remembered as lost.</summary>
    private void Spill(string session, SavedSequence saved)
    {
        if (_diskTier is null || !_diskTier.Save(session, saved.State, saved.Tokens))
        {
            Lose(session, saved.Tokens);
        }
    }

    private void Lose(string session, int[] tokens)
    {
        // Bounded: past the bound any one of these goes (they are only a measurement).
        if (_lost.Count >= 16 * MaxSequences)
        {
            _lost.Remove(_lost.Keys.First());
        }

        _lost[session] = tokens;
    }

    /// <summary>
    /// A session coming back to a sequence: restores its state from the host tier when that serves more of the job's
    /// prompt than what the sequence holds already (a restore costs less than one token's prefill), and counts what a
    /// session that lost its state prefills again.
    /// </summary>
    private void Unpark(PoolJob job, SequenceSlot slot)
    {
        if (job.Session is not { } session)
        {
            return;
        }

        var inSlot = Reusable(CollectionsMarshal.AsSpan(slot.Cached), job);
        if (_lost.Remove(session, out var lost))
        {
            Statistics.OnReprefill(Math.Max(0, Reusable(lost, job) - inSlot));
        }

        var saved = _hostTier?.Find(session);
        if (saved is not null)
        {
            _hostTier!.Remove(session);
        }
        else if (_diskTier is not null)
        {
            saved = _diskTier.Take(session, out var corrupted);
            if (corrupted is not null)
            {
                LogSpillCorrupted(_logger, corrupted, session);
            }
        }

        if (saved is null)
        {
            return;
        }

        // Measured on the CPU (docs/performance.md, "KV tiers"): a restore took 0.31 ms on average, one prompt token's
        // prefill about 0.55 ms, so a restore that serves even one more token than the sequence holds is the cheaper.
        var restorable = Reusable(saved.Tokens, job);
        if (restorable <= inSlot)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        slot.Cached.Clear();
        if (_context.RestoreSequence(slot.Id, saved.State))
        {
            slot.Cached.AddRange(saved.Tokens);
            Statistics.OnRestored(Stopwatch.GetElapsedTime(started));
        }
        else
        {
            _context.RemoveTokens(slot.Id);
            Statistics.OnReprefill(restorable);
        }
    }

    /// <summary>How many of <paramref name="held"/> tokens the job can use: their common prefix with its tokens, within its reusable limit.</summary>
    private static int Reusable(ReadOnlySpan<int> held, PoolJob job) => Math.Min(CommonPrefix(held, job.Tokens), job.ReusableLimit);

    private bool TryFork(ForkJob fork)
    {
        SequenceSlot? source;
        lock (_sessions)
        {
            _sessions.TryGetValue(fork.Source, out source);
        }

        if (!TryForkFrom(source, fork))
        {
            return false;
        }

        if (fork.Pinned && source is { Pins: > 0 })
        {
            source.Pins--;
        }

        return true;
    }

    private bool TryForkFrom(SequenceSlot? source, ForkJob fork)
    {
        if (fork.Result.Task.IsCompleted)
        {
            return true;
        }

        if (source is null)
        {
            fork.Result.TrySetException(new InvalidOperationException($"Session '{fork.Source}' has no sequence to fork (it never ran, or it was evicted)."));
            return true;
        }

        if (!source.IsIdle)
        {
            return false;
        }

        lock (_sessions)
        {
            var chosen = new List<SequenceSlot>();
            foreach (var target in fork.Targets)
            {
                if (_sessions.TryGetValue(target, out var existing))
                {
                    if (!existing.IsIdle)
                    {
                        return false;
                    }

                    chosen.Add(existing);
                }
            }

            var candidates = _slots.Where(s => s.IsEvictable && s != source && !chosen.Contains(s))
                .OrderBy(s => s.Session is null ? 0 : 1).ThenBy(s => s.LastUsed).ToList();
            var needed = fork.Targets.Length - chosen.Count;
            if (candidates.Count < needed)
            {
                if (_slots.Length - 1 < fork.Targets.Length)
                {
                    fork.Result.TrySetException(new InferencePoolBusyException(_slots.Length));
                    return true;
                }

                return false;
            }

            var next = 0;
            foreach (var target in fork.Targets)
            {
                if (!_sessions.TryGetValue(target, out var slot))
                {
                    slot = candidates[next++];
                    if (slot.Session is not null)
                    {
                        _sessions.Remove(slot.Session);
                        Statistics.OnEvicted();
                    }

                    slot.Session = target;
                    _sessions[target] = slot;
                }

                _context.RemoveTokens(slot.Id);
                _context.CopySequence(source.Id, slot.Id);
                slot.Cached.Clear();
                slot.Cached.AddRange(source.Cached);
                slot.LastUsed = ++_clock;
            }

            source.LastUsed = ++_clock;
            Statistics.OnForked(fork.Targets.Length);
            fork.Result.TrySetResult(source.Cached.Count);
            return true;
        }
    }

    /// <summary>Packs one token per generating sequence, then prompt chunks, up to the batch size.</summary>
    private bool BuildBatch()
    {
        _batch.Clear();
        _outputs.Clear();
        _fed.Clear();

        // Who gets the step's token budget is decided in admission order (decode tokens first, then prompt chunks),
        // so no request starves; the tokens then go into the batch in sequence order, because with a per-sequence
        // KV cache (kv_unified=false) llama.cpp splits a batch into micro-batches of consecutive sequence ids, and
        // arrival order could cost one micro-batch per sequence.
        _plan.Clear();
        var budget = _batch.Remaining;
        foreach (var job in _running)
        {
            if (job is GenerateJob { PendingToken: not null } && !job.InPrefill && budget > 0)
            {
                _plan.Add((job, 1));
                budget--;
            }
        }

        var decodeTokens = _plan.Count;
        foreach (var job in _running)
        {
            if (job.InPrefill && budget > 0)
            {
                var count = Math.Min(budget, job.Tokens.Length - job.FeedIndex);
                _plan.Add((job, count));
                budget -= count;
            }
        }

        _plan.Sort(static (a, b) => a.Job.Slot!.Id.CompareTo(b.Job.Slot!.Id));
        foreach (var (job, count) in _plan)
        {
            var slot = job.Slot!;
            if (job is GenerateJob { PendingToken: { } token } generate && !job.InPrefill)
            {
                var index = _batch.Add(token, slot.Cached.Count, slot.Id, wantLogits: true);
                _outputs.Add((job, index, -1));
                generate.PendingToken = null;
            }
            else
            {
                for (var k = 0; k < count; k++)
                {
                    var tokenIndex = job.FeedIndex + k;
                    var wants = job.WantsLogitsAt(tokenIndex);
                    var index = _batch.Add(job.Tokens[tokenIndex], slot.Cached.Count + k, slot.Id, wants);
                    if (wants)
                    {
                        _outputs.Add((job, index, tokenIndex));
                    }
                }
            }

            _fed.Add((job, count));
        }

        _stepDecodeTokens = decodeTokens;
        return _batch.Count > 0;
    }

    private int _stepDecodeTokens;
    private bool _stepping;

    private void Step()
    {
        var started = Stopwatch.GetTimestamp();
        var code = _context.Decode(_batch);
        if (code != 0)
        {
            var reason = LlamaLibrary.TakeRecentErrors();
            LogDecodeFailed(_logger, code, _batch.Count, _fed.Count, reason);
            FailBatch(new InferenceException($"llama_decode returned {code} for a batch of {_batch.Count} tokens{(reason.Length > 0 ? ": " + reason : string.Empty)}"));
            return;
        }

        var decoded = Stopwatch.GetTimestamp();
        foreach (var (job, count) in _fed)
        {
            var slot = job.Slot!;
            if (job is GenerateJob generate && !job.InPrefill)
            {
                slot.Cached.Add(generate.Generated[^1]);
            }
            else
            {
                slot.Cached.AddRange(job.Tokens.AsSpan(job.FeedIndex, count));
                job.FeedIndex += count;
            }
        }

        SampleAndScore();
        var ended = Stopwatch.GetTimestamp();
        var step = new PoolStep(
            _batch.Count,
            _stepDecodeTokens,
            _batch.Count - _stepDecodeTokens,
            _running.Count,
            _waiting.Count,
            Stopwatch.GetElapsedTime(started, decoded),
            Stopwatch.GetElapsedTime(decoded, ended));
        Statistics.OnStep(step);
        StepCompleted?.Invoke(step);
        _running.RemoveAll(j => j.Finished);
    }

    private void SampleAndScore()
    {
        var samples = new List<(GenerateJob Job, int BatchIndex)>();
        foreach (var (job, batchIndex, tokenIndex) in _outputs)
        {
            if (job.Finished)
            {
                continue;
            }

            if (job is ScoreJob score)
            {
                var logits = _context.Logits(batchIndex);
                score.LogProbabilities[tokenIndex - score.PromptLength + 1] = LogSoftmaxAt(logits, score.Tokens[tokenIndex + 1]);
            }
            else if (job is GenerateJob generate)
            {
                samples.Add((generate, batchIndex));
            }
        }

        foreach (var (job, _) in _fed)
        {
            if (job is ScoreJob { InPrefill: false, Finished: false } score)
            {
                Release(score);
                score.Complete();
            }
            else if (job is PrefillJob { InPrefill: false, Finished: false } prefill)
            {
                var slot = prefill.Slot!;
                Release(prefill);
                prefill.Complete(slot);
            }
        }

        if (samples.Count == 0)
        {
            return;
        }

        var tokens = new int[samples.Count];
        var indices = samples.Select(s => s.BatchIndex).ToArray();
        var samplers = samples.Select(s => s.Job.Sampler!).ToArray();
        _context.Sample(indices, samplers, tokens, parallel: samples.Count >= _options.ParallelSamplingThreshold);
        for (var i = 0; i < samples.Count; i++)
        {
            Accept(samples[i].Job, tokens[i]);
        }
    }

    private void Accept(GenerateJob job, int token)
    {
        if (!job.IgnoreEndOfGeneration && Model.IsEndOfGeneration(token))
        {
            Complete(job, FinishReason.EndOfGeneration);
            return;
        }

        job.Generated.Add(token);
        Statistics.OnGenerated();
        if (job.Append(Model.TokenBytes(token)))
        {
            Complete(job, FinishReason.Stop);
        }
        else if (job.Generated.Count >= job.MaxTokens)
        {
            Complete(job, FinishReason.MaxTokens);
        }
        else if (job.Slot!.Cached.Count + 1 >= SequenceContextLength)
        {
            Complete(job, FinishReason.ContextFull);
        }
        else
        {
            job.PendingToken = token;
        }
    }

    private double LogSoftmaxAt(ReadOnlySpan<float> logits, int token)
    {
        if (_logSoftmaxBuffer.Length < logits.Length)
        {
            _logSoftmaxBuffer = new float[logits.Length];
        }

        var buffer = _logSoftmaxBuffer.AsSpan(0, logits.Length);
        var max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, buffer);
        TensorPrimitives.Exp(buffer, buffer);
        double sum = 0;
        foreach (var v in buffer)
        {
            sum += v;
        }

        return logits[token] - max - Math.Log(sum);
    }

    private void Complete(GenerateJob job, FinishReason reason)
    {
        Release(job);
        job.Complete(reason);
    }

    private void Finish(PoolJob job, Exception error)
    {
        if (job.Finished)
        {
            return;
        }

        // Out of its queue before Release frees its sequence: a job cancelled mid-prefill and left in _running would
        // have its next prompt chunk fed by BuildBatch into the sequence AdmitWaiting just gave another job, at that
        // job's positions. Its KV needs no clearing: the sequence holds exactly the slot's Cached tokens (steps are
        // whole), and the next owner's Attach removes all past the prefix it reuses.
        if (job.Slot is null)
        {
            _waiting.Remove(job);
        }
        else
        {
            _running.Remove(job);
        }

        Release(job);
        Statistics.OnFailed();
        job.Fail(error);
    }

    /// <summary>Frees the job's sequence (its cached tokens stay for the session) and its queue place.</summary>
    private void Release(PoolJob job)
    {
        job.Registration.Dispose();
        if (job is GenerateJob generate)
        {
            generate.Sampler?.Dispose();
            generate.PendingToken = null;
        }

        if (job.Slot is { } slot && slot.Job == job)
        {
            Statistics.OnReleased();
            slot.Job = null;
            slot.LastUsed = ++_clock;
            if (job.Session is null)
            {
                slot.Session = null;
            }
        }

        Statistics.OnFinished();
        _admission.Release();
    }

    /// <summary>A decode failed: fail every request in it and drop their sequences, whose KV is now unknown.</summary>
    private void FailBatch(Exception error)
    {
        foreach (var (job, _) in _fed)
        {
            if (job.Slot is { } slot)
            {
                _context.RemoveTokens(slot.Id);
                slot.Cached.Clear();
            }

            Finish(job, error);
        }

        _running.RemoveAll(j => j.Finished);
        _fed.Clear();
        _outputs.Clear();
    }
}
