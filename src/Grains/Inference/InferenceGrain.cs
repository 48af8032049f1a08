using AgentTheater.Contracts.Inference;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Inference.Engine;
using Orleans.Concurrency;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// Hands grain calls to the silo's <see cref="InferencePool"/>. Reentrant: it only submits and awaits, so one
/// activation carries any number of concurrent requests into the pool's batches. Placed only on silos with a model (a
/// stateless worker lives on its caller's silo when that silo qualifies, on another one that does otherwise); its key is
/// a lane (<see cref="InferenceLanes"/>).
/// </summary>
[StatelessWorker(1), Reentrant, InferenceSiloPlacementFilter]
internal sealed class InferenceGrain(InferencePool pool, InferencePoolTelemetry poolTelemetry) : Grain, IInferenceGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        poolTelemetry.Observe(pool);
        return Task.CompletedTask;
    }

    public async Task<GenerateReply> Generate(GenerateCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceGenerate)?
            .SetTag(TheaterTelemetry.Attributes.Session, request.SessionKey);
        GenerationResult result;
        try
        {
            result = await pool.GenerateAsync(
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
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }

        activity?
            .SetTag(TheaterTelemetry.Attributes.QueueMilliseconds, result.QueueWait.TotalMilliseconds)
            .SetTag(TheaterTelemetry.Attributes.PromptTokens, result.PromptTokens)
            .SetTag(TheaterTelemetry.Attributes.PrefillTokens, result.PrefillTokens)
            .SetTag(TheaterTelemetry.Attributes.DecodeTokens, result.Tokens.Count)
            .SetTag(TheaterTelemetry.Attributes.FinishReason, result.FinishReason.ToString());
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
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceScore)?
            .SetTag(TheaterTelemetry.Attributes.Requests, requests.Count);
        ScoreResult[] scored;
        try
        {
            scored = await Task.WhenAll(requests.Select(r => pool.ScoreAsync(
                new ScoreRequest { SessionKey = r.SessionKey, Prompt = r.Prompt, Continuation = r.Continuation },
                cancellationToken)));
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }

        activity?.SetTag(TheaterTelemetry.Attributes.PrefillTokens, scored.Sum(s => s.PrefillTokens));
        return [.. scored.Select(s => new ScoreReply(s.LogProbability, s.ContinuationTokens.Count, s.PrefillTokens))];
    }

    public async Task<ForkReply> Fork(ForkCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceFork)?
            .SetTag(TheaterTelemetry.Attributes.Session, request.SourceSession)
            .SetTag(TheaterTelemetry.Attributes.Requests, request.TargetSessions.Count);
        try
        {
            var fork = await pool.ForkAsync(request.SourceSession, request.TargetSessions, request.SourcePrompt, cancellationToken);
            activity?.SetTag(TheaterTelemetry.Attributes.PrefillTokens, fork.PrefillTokens).SetTag(TheaterTelemetry.Attributes.PromptTokens, fork.CopiedTokens);
            return new ForkReply(fork.CopiedTokens, fork.PrefillTokens);
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }
    }

    public async Task<IReadOnlyList<ScoreReply>> ScoreAlternatives(ScoreAlternativesCall request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceScore)?
            .SetTag(TheaterTelemetry.Attributes.Session, request.SessionKey)
            .SetTag(TheaterTelemetry.Attributes.Requests, request.Continuations.Count);
        IReadOnlyList<ScoreResult> scored;
        try
        {
            scored = await pool.ScoreAlternativesAsync(request.Prompt, request.Continuations, request.SessionKey, cancellationToken);
        }
        catch (Exception e)
        {
            activity.RecordError(e);
            throw;
        }

        activity?.SetTag(TheaterTelemetry.Attributes.PrefillTokens, scored.Sum(s => s.PrefillTokens));
        return [.. scored.Select(s => new ScoreReply(s.LogProbability, s.ContinuationTokens.Count, s.PrefillTokens))];
    }
}
