using System.Diagnostics;
using AgentTheater.Contracts.Inference;
using AgentTheater.Grains.Diagnostics;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// The spans of <see cref="IInferenceGrain"/> calls, in one place: each starts with what its request says, ends with
/// what its reply says, and carries the error of a call that fails. Calls to other grains pass through untouched.
/// </summary>
internal sealed class InferenceTracingFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context) =>
        context.Request.GetInterfaceType() == typeof(IInferenceGrain) && context.Request.GetArgumentCount() > 0 && Start(context.Request.GetArgument(0)) is { } activity
            ? TraceAsync(context, activity)
            : context.Invoke();

    /// <summary>The call's span with its request attributes; null when nothing listens (or a request is missing, which the grain refuses).</summary>
    private static Activity? Start(object? request) => request switch
    {
        GenerateCall generate => TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceGenerate)?
            .SetTag(TheaterTelemetry.Attributes.Session, generate.SessionKey),
        IReadOnlyList<ScoreCall> score => TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceScore)?
            .SetTag(TheaterTelemetry.Attributes.Requests, score.Count),
        ForkCall fork => TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceFork)?
            .SetTag(TheaterTelemetry.Attributes.Session, fork.SourceSession)
            .SetTag(TheaterTelemetry.Attributes.Requests, fork.TargetSessions.Count),
        ScoreAlternativesCall alternatives => TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.InferenceScore)?
            .SetTag(TheaterTelemetry.Attributes.Session, alternatives.SessionKey)
            .SetTag(TheaterTelemetry.Attributes.Requests, alternatives.Continuations.Count),
        _ => null,
    };

    private static async Task TraceAsync(IIncomingGrainCallContext context, Activity activity)
    {
        using (activity)
        {
            try
            {
                await context.Invoke();
            }
            catch (Exception e)
            {
                activity.RecordError(e);
                throw;
            }

            Finish(activity, context.Result);
        }
    }

    /// <summary>The reply's attributes: what the pool did for the call.</summary>
    private static void Finish(Activity activity, object? reply)
    {
        switch (reply)
        {
            case GenerateReply generated:
                activity
                    .SetTag(TheaterTelemetry.Attributes.QueueMilliseconds, generated.QueueMilliseconds)
                    .SetTag(TheaterTelemetry.Attributes.PromptTokens, generated.PromptTokens)
                    .SetTag(TheaterTelemetry.Attributes.PrefillTokens, generated.PrefillTokens)
                    .SetTag(TheaterTelemetry.Attributes.DecodeTokens, generated.Tokens)
                    .SetTag(TheaterTelemetry.Attributes.FinishReason, generated.FinishReason);
                break;
            case IReadOnlyList<ScoreReply> scored:
                activity.SetTag(TheaterTelemetry.Attributes.PrefillTokens, scored.Sum(s => s.PrefillTokens));
                break;
            case ForkReply fork:
                activity
                    .SetTag(TheaterTelemetry.Attributes.PrefillTokens, fork.PrefillTokens)
                    .SetTag(TheaterTelemetry.Attributes.PromptTokens, fork.CopiedTokens);
                break;
        }
    }
}
