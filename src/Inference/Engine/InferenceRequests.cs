using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

/// <summary>A generation request to the <see cref="InferencePool"/>.</summary>
public sealed record GenerationRequest
{
    /// <summary>
    /// Slot affinity: requests with the same key reuse the sequence (and its cached prefix). A character's id.
    /// Null for a one-off request.
    /// </summary>
    public string? SessionKey { get; init; }

    /// <summary>
    /// The whole prompt as text (tokenised with BOS, control-token text kept as text: <see cref="PromptFormat.Script"/>);
    /// or set <see cref="Messages"/> or <see cref="PromptTokens"/>.
    /// </summary>
    public string? Prompt { get; init; }

    /// <summary>The whole prompt as token ids, used as given (wins over <see cref="Messages"/> and <see cref="Prompt"/>).</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>
    /// The prompt as chat turns (<see cref="PromptFormat.Chat"/>), rendered with the model's template and ending in the
    /// assistant prompt (<see cref="LlamaModel.TokenizeChat(IReadOnlyList{ChatTurn}, bool, string?)"/>); wins over
    /// <see cref="Prompt"/>. The model must have a template llama.cpp recognises.
    /// </summary>
    public IReadOnlyList<ChatTurn>? Messages { get; init; }

    /// <summary>Sampling settings.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>Generation ends before the first occurrence of any of these; they are not returned.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep going past end-of-generation tokens (benchmarks that need a fixed number of tokens).</summary>
    public bool IgnoreEndOfGeneration { get; init; }
}

/// <summary>A request for the log-probability of <see cref="Continuation"/> after <see cref="Prompt"/>.</summary>
public sealed record ScoreRequest
{
    /// <summary>Slot affinity, as for generation: scoring under a character's prompt reuses its cached prefix.</summary>
    public string? SessionKey { get; init; }

    /// <summary>The context as text (control-token text kept as text).</summary>
    public string? Prompt { get; init; }

    /// <summary>
    /// The context as chat turns, ending in the assistant prompt (wins over <see cref="Prompt"/>): the continuation is
    /// then the text of the assistant's reply.
    /// </summary>
    public IReadOnlyList<ChatTurn>? Messages { get; init; }

    /// <summary>The text whose tokens are scored.</summary>
    public string? Continuation { get; init; }

    /// <summary>Context as token ids (with <see cref="ContinuationTokens"/>), instead of text.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Tokens to score, instead of <see cref="Continuation"/>.</summary>
    public IReadOnlyList<int>? ContinuationTokens { get; init; }
}

/// <summary>Why generation stopped.</summary>
public enum FinishReason
{
    /// <summary>A stop string appeared.</summary>
    Stop,

    /// <summary>The model produced an end-of-generation token.</summary>
    EndOfGeneration,

    /// <summary><see cref="GenerationRequest.MaxTokens"/> tokens were generated.</summary>
    MaxTokens,

    /// <summary>The sequence's context is full.</summary>
    ContextFull,
}

/// <summary>The outcome of a generation.</summary>
/// <param name="Text">Generated text, stop string excluded.</param>
/// <param name="Tokens">Generated token ids.</param>
/// <param name="FinishReason">Why it stopped.</param>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="PrefillTokens">Prompt tokens actually decoded (the rest came from the session's cache).</param>
/// <param name="QueueWait">Time from submission to getting a sequence.</param>
/// <param name="Duration">Time from submission to the end.</param>
public sealed record GenerationResult(
    string Text,
    IReadOnlyList<int> Tokens,
    FinishReason FinishReason,
    int PromptTokens,
    int PrefillTokens,
    TimeSpan QueueWait,
    TimeSpan Duration)
{
    /// <summary>Prompt tokens reused from the cache.</summary>
    public int ReusedTokens => PromptTokens - PrefillTokens;
}

/// <summary>The outcome of scoring.</summary>
/// <param name="TokenLogProbabilities">Natural-log probability of each continuation token.</param>
/// <param name="ContinuationTokens">The tokens scored.</param>
/// <param name="PrefillTokens">Tokens decoded (the rest came from the session's cache).</param>
public sealed record ScoreResult(IReadOnlyList<double> TokenLogProbabilities, IReadOnlyList<int> ContinuationTokens, int PrefillTokens)
{
    /// <summary>Sum of the token log-probabilities.</summary>
    public double LogProbability => TokenLogProbabilities.Sum();

    /// <summary>Mean log-probability per token (0 for an empty continuation).</summary>
    public double MeanLogProbability => TokenLogProbabilities.Count == 0 ? 0 : LogProbability / TokenLogProbabilities.Count;
}

/// <summary>What a fork from a prompt cost.</summary>
/// <param name="CopiedTokens">Tokens each copy starts with.</param>
/// <param name="PrefillTokens">Tokens decoded to bring the source to the prompt (once for every copy).</param>
public sealed record SequenceForkResult(int CopiedTokens, int PrefillTokens);

/// <summary>The pool's queue is full and <see cref="InferencePoolOptions.WaitWhenBusy"/> is off.</summary>
public sealed class InferencePoolBusyException(int capacity)
    : Exception($"The inference pool is busy: {capacity} requests are already queued or running (Inference:MaxQueuedRequests). Retry later or set Inference:WaitWhenBusy.")
{
    /// <summary>The queue capacity that was reached.</summary>
    public int Capacity { get; } = capacity;
}

/// <summary>A prompt does not fit in one sequence's context.</summary>
public sealed class PromptTooLongException(int tokens, int limit)
    : Exception($"The prompt is {tokens} tokens but a sequence holds at most {limit} (Inference:SequenceContextLength).")
{
    /// <summary>Tokens in the prompt (plus room for one generated token).</summary>
    public int Tokens { get; } = tokens;

    /// <summary>Tokens a sequence holds.</summary>
    public int Limit { get; } = limit;
}

/// <summary>llama.cpp failed a decode step; the requests in that step fail with this, the pool goes on.</summary>
public sealed class InferenceException(string message) : Exception(message);
