using System.Diagnostics;

namespace AgentTheater.Grains.Cluster;

/// <summary>
/// Retries a grain call through a silo failure. When a silo dies, calls to grains it hosted fail until membership has
/// declared it dead (by default a few missed 5-second probes, then the vote) and the grains are activated again
/// elsewhere from storage; a call retried for <see cref="Window"/> outlasts that. Other failures get a few attempts.
/// </summary>
public static class ClusterRetry
{
    /// <summary>How long a call is retried while the cluster reports a failure (unreachable silo, rejected message, timeout).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs <paramref name="call"/>; retries it while it fails with a cluster failure (for <see cref="Window"/>) or with
    /// another error (for <paramref name="attempts"/> attempts in all), calling <paramref name="retrying"/> before each retry.
    /// An <see cref="ArgumentException"/> is never retried.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, int attempts, Action<Exception, int> retrying, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is not ArgumentException
                && (IsClusterFailure(e) ? Stopwatch.GetElapsedTime(started) < Window : attempt < attempts))
            {
                retrying(e, attempt);
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
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

    /// <summary>A failure of the cluster rather than of the call: a dead or unreachable silo, a rejected message, a timeout.</summary>
    public static bool IsClusterFailure(Exception exception) => exception is OrleansException or TimeoutException;
}
