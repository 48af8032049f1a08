using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Contracts.Inference;

/// <summary>
/// The door to the pooled inference engine of a silo that holds a model. Every character's request goes
/// through it, so the pool batches them all together. Key: a lane; a session keeps to one lane, so its requests keep
/// reaching the pool that caches its prefix.
/// </summary>
public interface IInferenceGrain : IGrainWithIntegerKey
{
    /// <summary>Generates a continuation of <see cref="GenerateCall.Prompt"/> (or of <see cref="GenerateCall.Messages"/>' chat prompt).</summary>
    [ResponseTimeout("00:10:00")]
    Task<GenerateReply> Generate(GenerateCall request, CancellationToken cancellationToken = default);

    /// <summary>Teacher-forced log-probabilities of each call's continuation, all submitted at once so they share batches.</summary>
    [ResponseTimeout("00:10:00")]
    Task<IReadOnlyList<ScoreReply>> Score(IReadOnlyList<ScoreCall> requests, CancellationToken cancellationToken = default);

    /// <summary>
    /// Brings the source session's sequence to exactly <see cref="ForkCall.SourcePrompt"/> (decoding only what it does
    /// not cache) and copies it into every target session, so each continues from there without prefill.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<ForkReply> Fork(ForkCall request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Log-probability of each continuation after one prompt: the prompt is decoded once and copied into a sequence per
    /// continuation, and all of them are scored in the same batches.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<IReadOnlyList<ScoreReply>> ScoreAlternatives(ScoreAlternativesCall request, CancellationToken cancellationToken = default);

    /// <summary>What a prompt may hold on this pool: the model's training context, the sequence length, whether the cache shifts.</summary>
    Task<PromptLimits> GetPromptLimits();

    /// <summary>
    /// The tokens each text becomes, tokenized as prompt text is (special-token text stays text; no BOS): what a caller
    /// needs to keep a prompt within <see cref="PromptLimits.Tokens"/>.
    /// </summary>
    Task<IReadOnlyList<int>> CountTokens(IReadOnlyList<string> texts);
}

/// <summary>What a prompt may hold on a pool.</summary>
/// <param name="TrainingContext">The model's training context (<c>n_ctx_train</c>); 0 when the model does not say.</param>
/// <param name="SequenceContext">Tokens a sequence of the pool holds.</param>
/// <param name="ShiftsContext">
/// Whether the pool removes a dropped chunk of a session's cached prompt and moves the rest back, instead of prefilling
/// the rest again.
/// </param>
/// <param name="AutoFormat">The prompt format <c>prompt_format: auto</c> gives on this pool's model (script or chat).</param>
/// <param name="ChatMessageTokens">
/// Tokens the model's chat template adds around each message (its role markers); 0 when it has no template llama.cpp
/// knows, so the chat format cannot be used.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.PromptLimits")]
public sealed record PromptLimits(
    [property: Id(0)] int TrainingContext,
    [property: Id(1)] int SequenceContext,
    [property: Id(2)] bool ShiftsContext,
    [property: Id(3)] PromptFormatChoice AutoFormat = PromptFormatChoice.Script,
    [property: Id(4)] int ChatMessageTokens = 0)
{
    /// <summary>The format a scenario's <paramref name="choice"/> gives on this pool.</summary>
    /// <exception cref="ArgumentException">The chat format is asked of a model without a chat template llama.cpp knows.</exception>
    public PromptFormatChoice Resolve(PromptFormatChoice choice) => choice switch
    {
        PromptFormatChoice.Auto => AutoFormat,
        PromptFormatChoice.Chat when ChatMessageTokens == 0 =>
            throw new ArgumentException("prompt_format: chat needs a model with a chat template llama.cpp recognises; this pool's model has none (use script or auto).", nameof(choice)),
        _ => choice,
    };

    /// <summary>Most tokens a prompt and its generation together should take: the smaller of the two contexts.</summary>
    public int Tokens => TrainingContext > 0 ? Math.Min(TrainingContext, SequenceContext) : SequenceContext;
}

/// <summary>A fork of one session into others.</summary>
/// <param name="SourceSession">The session whose sequence is copied.</param>
/// <param name="SourcePrompt">The text the copies start from (the source's cache is brought to exactly this).</param>
/// <param name="TargetSessions">New sessions, one per copy.</param>
/// <param name="SourceMessages">
/// The chat-format prompt the copies start from (ending in the assistant prompt), instead of
/// <paramref name="SourcePrompt"/>; null for the text prompt.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ForkCall")]
public sealed record ForkCall(
    [property: Id(0)] string SourceSession,
    [property: Id(1)] string SourcePrompt,
    [property: Id(2)] IReadOnlyList<string> TargetSessions,
    [property: Id(3)] IReadOnlyList<PromptMessage>? SourceMessages = null);

/// <summary>What a fork cost.</summary>
/// <param name="CopiedTokens">Tokens each copy starts with.</param>
/// <param name="PrefillTokens">Tokens decoded to bring the source to the prompt (once, whatever the number of copies).</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ForkReply")]
public sealed record ForkReply(
    [property: Id(0)] int CopiedTokens,
    [property: Id(1)] int PrefillTokens);

/// <summary>Several continuations of one prompt to score.</summary>
/// <param name="SessionKey">Optional session whose cached prefix the prompt may reuse.</param>
/// <param name="Prompt">Context shared by every continuation.</param>
/// <param name="Continuations">Texts to score.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ScoreAlternativesCall")]
public sealed record ScoreAlternativesCall(
    [property: Id(0)] string? SessionKey,
    [property: Id(1)] string Prompt,
    [property: Id(2)] IReadOnlyList<string> Continuations);

/// <summary>A generation request.</summary>
/// <param name="SessionKey">Keeps this session's tokens in one sequence, so the next call prefills only what is new.</param>
/// <param name="Prompt">Text to continue.</param>
/// <param name="MaxTokens">Most tokens to generate.</param>
/// <param name="Temperature">0 for greedy.</param>
/// <param name="TopP">Nucleus threshold.</param>
/// <param name="TopK">Top-k (0: off).</param>
/// <param name="RepetitionPenalty">1: off.</param>
/// <param name="Seed">Sampler seed.</param>
/// <param name="StopStrings">Generation ends before any of these.</param>
/// <param name="Messages">
/// The prompt in the chat format (rendered with the model's template, ending in the assistant prompt), instead of
/// <paramref name="Prompt"/>; null for the text prompt.
/// </param>
[GenerateSerializer, Immutable, Alias("AgentTheater.GenerateCall")]
public sealed record GenerateCall(
    [property: Id(0)] string? SessionKey,
    [property: Id(1)] string Prompt,
    [property: Id(2)] int MaxTokens,
    [property: Id(3)] float Temperature,
    [property: Id(4)] float TopP,
    [property: Id(5)] int TopK,
    [property: Id(6)] float RepetitionPenalty,
    [property: Id(7)] uint Seed,
    [property: Id(8)] IReadOnlyList<string> StopStrings,
    [property: Id(9)] IReadOnlyList<PromptMessage>? Messages = null);

/// <summary>What a generation produced.</summary>
/// <param name="Text">Generated text (without the stop string).</param>
/// <param name="Tokens">Generated tokens.</param>
/// <param name="PrefillTokens">Prompt tokens prefilled (not reused from the session's cached prefix).</param>
/// <param name="PromptTokens">Prompt tokens in all.</param>
/// <param name="FinishReason">Why it ended: Stop, Length, EndOfGeneration.</param>
/// <param name="QueueMilliseconds">Wait for a sequence.</param>
/// <param name="GenerateMilliseconds">From admission to the last token.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.GenerateReply")]
public sealed record GenerateReply(
    [property: Id(0)] string Text,
    [property: Id(1)] int Tokens,
    [property: Id(2)] int PrefillTokens,
    [property: Id(3)] int PromptTokens,
    [property: Id(4)] string FinishReason,
    [property: Id(5)] double QueueMilliseconds,
    [property: Id(6)] double GenerateMilliseconds);

/// <summary>A scoring request: how likely is <paramref name="Continuation"/> after <paramref name="Prompt"/>.</summary>
/// <param name="SessionKey">Optional session whose cached prefix may be reused.</param>
/// <param name="Prompt">Context.</param>
/// <param name="Continuation">Text to score (with <paramref name="Messages"/>: the assistant's reply).</param>
/// <param name="Messages">The context in the chat format (ending in the assistant prompt), instead of <paramref name="Prompt"/>; null for the text prompt.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ScoreCall")]
public sealed record ScoreCall(
    [property: Id(0)] string? SessionKey,
    [property: Id(1)] string Prompt,
    [property: Id(2)] string Continuation,
    [property: Id(3)] IReadOnlyList<PromptMessage>? Messages = null);

/// <summary>Log-probability of a continuation.</summary>
/// <param name="LogProbability">Sum of token log-probabilities (natural log).</param>
/// <param name="Tokens">Continuation tokens scored.</param>
/// <param name="PrefillTokens">Tokens the pool had to decode for it.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.ScoreReply")]
public sealed record ScoreReply(
    [property: Id(0)] double LogProbability,
    [property: Id(1)] int Tokens,
    [property: Id(2)] int PrefillTokens);
