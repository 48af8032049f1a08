using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

/// <summary>One sequence of the context: which session owns it and exactly which tokens its KV holds.</summary>
internal sealed class SequenceSlot(int id)
{
    public int Id { get; } = id;

    public string? Session { get; set; }

    /// <summary>Tokens held in the KV memory at positions 0..Count-1.</summary>
    public List<int> Cached { get; } = [];

    public long LastUsed { get; set; }

    public PoolJob? Job { get; set; }

    /// <summary>Forks waiting to copy this sequence: while any are, it is not evicted.</summary>
    public int Pins { get; set; }

    public bool IsIdle => Job is null;

    public bool IsEvictable => Job is null && Pins == 0;
}

/// <summary>Work the scheduler does on a sequence: feed <see cref="Tokens"/>, read logits where needed.</summary>
internal abstract class PoolJob(string? session, int[] tokens)
{
    public long SubmittedAt { get; } = Stopwatch.GetTimestamp();

    public long AdmittedAt { get; set; }

    public string? Session { get; } = session;

    /// <summary>Tokens the sequence must hold before the job's outputs (the prompt, or prompt and continuation).</summary>
    public int[] Tokens { get; } = tokens;

    /// <summary>Next index of <see cref="Tokens"/> to feed.</summary>
    public int FeedIndex { get; set; }

    public int PrefillTokens { get; set; }

    public SequenceSlot? Slot { get; set; }

    public bool Finished { get; set; }

    public CancellationTokenRegistration Registration { get; set; }

    public bool InPrefill => FeedIndex < Tokens.Length;

    /// <summary>Most tokens the cache may reuse: the rest is fed so the needed logits are computed.</summary>
    public abstract int ReusableLimit { get; }

    /// <summary>True when feeding Tokens[index] must produce logits.</summary>
    public abstract bool WantsLogitsAt(int index);

    public abstract void Fail(Exception error);
}

/// <summary>A generation: prefill the prompt, then sample one token per step.</summary>
internal sealed class GenerateJob : PoolJob
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _text = new();
    private readonly char[] _chars = new char[64];
    private int _emitted;

    public GenerateJob(GenerationRequest request, int[] tokens)
        : base(request.SessionKey, tokens)
    {
        Sampling = request.Sampling;
        MaxTokens = request.MaxTokens;
        IgnoreEndOfGeneration = request.IgnoreEndOfGeneration;
        StopStrings = [.. request.StopStrings.Where(s => s.Length > 0)];
    }

    public SamplingOptions Sampling { get; }

    public int MaxTokens { get; }

    public bool IgnoreEndOfGeneration { get; }

    public string[] StopStrings { get; }

    public TokenSampler? Sampler { get; set; }

    public List<int> Generated { get; } = [];

    /// <summary>The last sampled token, to be fed in the next step.</summary>
    public int? PendingToken { get; set; }

    public Channel<string> Pieces { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public TaskCompletionSource<GenerationResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override int ReusableLimit => Tokens.Length - 1;

    public override bool WantsLogitsAt(int index) => index == Tokens.Length - 1;

    /// <summary>Adds a token's bytes to the text; returns true when a stop string ended the generation.</summary>
    public bool Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0)
        {
            var chars = _chars.Length >= _decoder.GetCharCount(bytes, flush: false) ? _chars : new char[_decoder.GetCharCount(bytes, flush: false)];
            var n = _decoder.GetChars(bytes, chars, flush: false);
            _text.Append(chars, 0, n);
        }

        var text = _text.ToString();
        foreach (var stop in StopStrings)
        {
            var at = text.IndexOf(stop, Math.Max(0, _emitted - stop.Length), StringComparison.Ordinal);
            if (at >= 0)
            {
                _text.Length = at;
                Emit(at);
                return true;
            }
        }

        // Hold back a tail that could still become a stop string.
        var holdBack = 0;
        foreach (var stop in StopStrings)
        {
            for (var k = Math.Min(stop.Length - 1, text.Length); k > holdBack; k--)
            {
                if (text.AsSpan(text.Length - k).SequenceEqual(stop.AsSpan(0, k)))
                {
                    holdBack = k;
                    break;
                }
            }
        }

        Emit(text.Length - holdBack);
        return false;
    }

    public void Complete(FinishReason reason)
    {
        Emit(_text.Length);
        Finished = true;
        Pieces.Writer.TryComplete();
        var now = Stopwatch.GetTimestamp();
        Result.TrySetResult(new GenerationResult(
            _text.ToString(),
            [.. Generated],
            reason,
            Tokens.Length,
            PrefillTokens,
            Stopwatch.GetElapsedTime(SubmittedAt, AdmittedAt == 0 ? now : AdmittedAt),
            Stopwatch.GetElapsedTime(SubmittedAt, now)));
    }

    public override void Fail(Exception error)
    {
        Finished = true;
        Pieces.Writer.TryComplete();
        Result.TrySetException(error);
    }

    private void Emit(int upTo)
    {
        if (upTo > _emitted)
        {
            Pieces.Writer.TryWrite(_text.ToString(_emitted, upTo - _emitted));
            _emitted = upTo;
        }
    }
}

/// <summary>Teacher-forced scoring: feed prompt and continuation, read the log-probability of each continuation token.</summary>
internal sealed class ScoreJob(string? session, int[] tokens, int promptLength) : PoolJob(session, tokens)
{
    public int PromptLength { get; } = promptLength;

    public double[] LogProbabilities { get; } = new double[tokens.Length - promptLength];

    public TaskCompletionSource<ScoreResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override int ReusableLimit => PromptLength - 1;

    public override bool WantsLogitsAt(int index) => index >= PromptLength - 1 && index < Tokens.Length - 1;

    public void Complete()
    {
        Finished = true;
        Result.TrySetResult(new ScoreResult(LogProbabilities, Tokens[PromptLength..], PrefillTokens));
    }

    public override void Fail(Exception error)
    {
        Finished = true;
        Result.TrySetException(error);
    }
}

/// <summary>Bring a session's sequence to exactly <see cref="PoolJob.Tokens"/>: keep the cached prefix, drop a differing tail, feed the rest.</summary>
internal sealed class PrefillJob(string session, int[] tokens, bool pinForFork) : PoolJob(session, tokens)
{
    public TaskCompletionSource<int> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Keep the sequence from eviction until the fork that follows has copied it.</summary>
    public bool PinForFork { get; } = pinForFork;

    public override int ReusableLimit => Tokens.Length;

    // One output keeps the batch like any other (llama.cpp computes logits for at least one token anyway).
    public override bool WantsLogitsAt(int index) => index == Tokens.Length - 1;

    public void Complete(SequenceSlot slot)
    {
        Finished = true;
        if (PinForFork)
        {
            slot.Pins++;
        }

        Result.TrySetResult(PrefillTokens);
    }

    public override void Fail(Exception error)
    {
        Finished = true;
        Result.TrySetException(error);
    }
}

/// <summary>Copy a session's sequence into new sessions.</summary>
internal sealed class ForkJob(string source, string[] targets, bool pinned)
{
    public string Source { get; } = source;

    /// <summary>The source was pinned by the prefill before it; the fork unpins it.</summary>
    public bool Pinned { get; } = pinned;

    public string[] Targets { get; } = targets;

    public TaskCompletionSource<int> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
