using AgentTheater.Contracts.Inference;
using AgentTheater.Inference.Engine;
using Orleans.Concurrency;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// Hands grain calls to the silo's <see cref="InferencePool"/>. Reentrant: it only submits and awaits, so one
/// activation carries any number of concurrent requests into the pool's batches.
/// </summary>
[StatelessWorker(1), Reentrant]
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
        var scored = await Task.WhenAll(requests.Select(r => pool.ScoreAsync(
            new ScoreRequest { SessionKey = r.SessionKey, Prompt = r.Prompt, Continuation = r.Continuation },
            cancellationToken)));
        return [.. scored.Select(s => new ScoreReply(s.LogProbability, s.ContinuationTokens.Count, s.PrefillTokens))];
    }
}
