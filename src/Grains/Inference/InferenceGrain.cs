using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Cluster;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;
using Orleans.Concurrency;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// Hands grain calls to the silo's <see cref="InferencePool"/>. Reentrant: it only submits and awaits, so one
/// activation carries any number of concurrent requests into the pool's batches. Placed only on silos with a model (a
/// stateless worker lives on its caller's silo when that silo qualifies, on another one that does otherwise); its key is
/// a lane (<see cref="InferenceLanes"/>). Its calls' spans come from <see cref="InferenceTracingFilter"/>.
/// </summary>
[StatelessWorker(1), Reentrant, InferenceSiloPlacementFilter]
internal sealed class InferenceGrain(InferencePool pool) : Grain, IInferenceGrain
{
    public async Task<GenerateReply> Generate(GenerateCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await pool.GenerateAsync(
            new GenerationRequest
            {
                SessionKey = request.SessionKey,
                Prompt = request.Prompt,
                Messages = Turns(request.Messages),
                MaxTokens = request.MaxTokens,
                StopStrings = request.StopStrings,
                Sampling = new SamplingOptions
                {
                    Temperature = request.Temperature,
                    TopP = request.TopP,
                    TopK = request.TopK,
                    RepetitionPenalty = request.RepetitionPenalty,
                    Seed = request.Seed,
                },
            },
            cancellationToken);
        return new GenerateReply(
            result.Text,
            result.Tokens.Count,
            result.PrefillTokens,
            result.PromptTokens,
            result.FinishReason.ToString(),
            result.QueueWait.TotalMilliseconds,
            (result.Duration - result.QueueWait).TotalMilliseconds);
    }

    public async Task<IReadOnlyList<ScoreReply>> Score(IReadOnlyList<ScoreCall> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);

        // Submitting tokenizes every prompt; a batch of long prompts is CPU work that does not belong on the scheduler.
        var scoring = await Task.Run(
            () => requests.Select(r => pool.ScoreAsync(
                new ScoreRequest { SessionKey = r.SessionKey, Prompt = r.Prompt, Messages = Turns(r.Messages), Continuation = r.Continuation },
                cancellationToken)).ToArray(),
            cancellationToken);
        return Replies(await Task.WhenAll(scoring));
    }

    public async Task<ForkReply> Fork(ForkCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fork = request.SourceMessages is { } messages
            ? await pool.ForkAsync(request.SourceSession, request.TargetSessions, Turns(messages)!, cancellationToken)
            : await pool.ForkAsync(request.SourceSession, request.TargetSessions, request.SourcePrompt, cancellationToken);
        return new ForkReply(fork.CopiedTokens, fork.PrefillTokens);
    }

    public async Task<IReadOnlyList<ScoreReply>> ScoreAlternatives(ScoreAlternativesCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Replies(await pool.ScoreAlternativesAsync(request.Prompt, request.Continuations, request.SessionKey, cancellationToken));
    }

    public Task<PromptLimits> GetPromptLimits() =>
        Task.FromResult(new PromptLimits(
            pool.Model.TrainedContextLength,
            pool.SequenceContextLength,
            pool.ShiftsContext,
            pool.PromptFormat == PromptFormat.Chat ? PromptFormatChoice.Chat : PromptFormatChoice.Script,
            pool.ChatMessageTokens));

    public async Task<IReadOnlyList<int>> CountTokens(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return await Task.Run<IReadOnlyList<int>>(() => [.. texts.Select(pool.CountTokens)]);
    }

    private static ChatTurn[]? Turns(IReadOnlyList<PromptMessage>? messages) =>
        messages is null ? null : [.. messages.Select(m => new ChatTurn(m.Role, m.Content))];

    private static IReadOnlyList<ScoreReply> Replies(IEnumerable<ScoreResult> scored) =>
        [.. scored.Select(s => new ScoreReply(s.LogProbability, s.ContinuationTokens.Count, s.PrefillTokens))];
}
