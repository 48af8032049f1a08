using System.Diagnostics;
using Polly;
using Polly.Retry;

namespace AgentTheater.Grains.Cluster;

/// <summary>
/// Retries a grain call through a silo failure. When a silo dies, calls to grains it hosted fail until membership has
/// declared it dead (by default a few missed 5-second probes, then the vote) and the grains are activated again
/// elsewhere from storage; a call retried for <see cref="Window"/> outlasts that. Other failures get a few attempts.
/// The one Polly retry pipeline of the theater: delays from 200 ms doubling to at most 5 s, without jitter.
/// </summary>
public static class ClusterRetry
{
    /// <summary>How long a call is retried while the cluster reports a failure (unreachable silo, rejected message, timeout).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private static readonly ResiliencePropertyKey<CallBudget> BudgetKey = new("AgentTheater.ClusterRetry.Budget");

    // Built once: what differs between calls (attempts, start, the retry callback) travels in the call's context.
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && Budget(args.Context).Allows(e, args.AttemptNumber + 1)),

            // The budget decides when to stop; Polly counts int.MaxValue as no limit.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            Delay = FirstDelay,
            MaxDelay = MaxDelay,
            OnRetry = args =>
            {
                Budget(args.Context).Retrying(args.Outcome.Exception!, args.AttemptNumber + 1);
                return default;
            },
        })
        .Build();

    /// <summary>
    /// Runs <paramref name="call"/>; retries it while it fails with a cluster failure (for <see cref="Window"/>) or with
    /// another error (for <paramref name="attempts"/> attempts in all), calling <paramref name="retrying"/> before each retry.
    /// An <see cref="ArgumentException"/> is never retried. Once <paramref name="cancellationToken"/> is cancelled no
    /// attempt starts: a wait between attempts ends with <see cref="OperationCanceledException"/>, and a failure that
    /// comes back after the cancellation is thrown as it is.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, int attempts, Action<Exception, int> retrying, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(retrying);

        // Polly leaves the captured context by default; a grain's calls must come back to the grain's scheduler.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        context.Properties.Set(BudgetKey, new CallBudget(attempts, Stopwatch.GetTimestamp(), retrying));
        try
        {
            return await Pipeline.ExecuteAsync(static async (_, call) => await call(), context, call);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <inheritdoc cref="RunAsync{T}(Func{Task{T}}, int, Action{Exception, int}, CancellationToken)"/>
    public static Task RunAsync(Func<Task> call, int attempts, Action<Exception, int> retrying, CancellationToken cancellationToken = default) =>
        RunAsync(async () =>
        {
            await call();
            return true;
        },
        attempts,
        retrying,
        cancellationToken);

    /// <summary>
    /// A failure of the cluster rather than of the call: a dead or unreachable silo, a rejected message, a timeout, or a
    /// stream from a grain that was lost with its silo (<see cref="EnumerationAbortedException"/>; watching again reaches
    /// the grain where it is activated anew).
    /// </summary>
    public static bool IsClusterFailure(Exception exception) => exception is OrleansException or TimeoutException or EnumerationAbortedException;

    private static CallBudget Budget(ResilienceContext context) => context.Properties.GetValue(BudgetKey, default!);

    /// <summary>What one call may spend on retries, and whom it tells.</summary>
    private sealed record CallBudget(int Attempts, long Started, Action<Exception, int> Retrying)
    {
        /// <summary>Whether the call that failed with <paramref name="exception"/> on attempt <paramref name="attempt"/> (from 1) is retried.</summary>
        public bool Allows(Exception exception, int attempt) =>
            exception is not ArgumentException
            && (IsClusterFailure(exception) ? Stopwatch.GetElapsedTime(Started) < Window : attempt < Attempts);
    }
}
