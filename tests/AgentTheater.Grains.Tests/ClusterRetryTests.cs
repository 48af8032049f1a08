using System.Diagnostics;
using AgentTheater.Grains.Cluster;

namespace AgentTheater.Grains.Tests;

/// <summary>The retry limits every grain call of the theater goes through (the delays are real: failure counts stay small).</summary>
public sealed class ClusterRetryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(typeof(OrleansException))]
    [InlineData(typeof(SiloUnavailableException))]
    [InlineData(typeof(TimeoutException))]
    [InlineData(typeof(EnumerationAbortedException))]
    public async Task RunAsync_ClusterFailureTwiceThenSuccess_IsRetriedBeyondItsAttempts(Type failure)
    {
        var call = new ScriptedCall(Enumerable.Repeat(failure, 2));

        var result = await ClusterRetry.RunAsync(call.RunAsync, attempts: 1, call.Retrying, Cancel);

        Assert.Equal(3, result);
        Assert.Equal([1, 2], call.RetriedAttempts);
        Assert.All(call.RetriedFailures, e => Assert.IsType(failure, e));
    }

    [Fact]
    public async Task RunAsync_OtherFailure_StopsAfterItsAttemptsWithThatFailure()
    {
        var call = new ScriptedCall(Enumerable.Repeat(typeof(InvalidOperationException), 5));

        await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterRetry.RunAsync(call.RunAsync, attempts: 3, call.Retrying, Cancel));

        Assert.Equal(3, call.Calls);
        Assert.Equal([1, 2], call.RetriedAttempts);
    }

    [Theory]
    [InlineData(typeof(ArgumentException))]
    [InlineData(typeof(ArgumentOutOfRangeException))]
    public async Task RunAsync_ArgumentException_IsNeverRetried(Type failure)
    {
        var call = new ScriptedCall([failure]);

        await Assert.ThrowsAsync(failure, () => ClusterRetry.RunAsync(call.RunAsync, attempts: 3, call.Retrying, Cancel));

        Assert.Equal(1, call.Calls);
        Assert.Empty(call.RetriedAttempts);
    }

    [Fact]
    public async Task RunAsync_Retries_WaitFrom200MillisecondsDoubling()
    {
        var call = new ScriptedCall(Enumerable.Repeat(typeof(OrleansException), 2));

        await ClusterRetry.RunAsync(call.RunAsync, attempts: 1, call.Retrying, Cancel);

        // No jitter: never shorter than 200 ms, then 400 ms.
        Assert.True(call.Gaps[0] >= TimeSpan.FromMilliseconds(195), $"first wait {call.Gaps[0].TotalMilliseconds} ms");
        Assert.True(call.Gaps[1] >= TimeSpan.FromMilliseconds(395), $"second wait {call.Gaps[1].TotalMilliseconds} ms");
    }

    [Fact]
    public async Task RunAsync_CancelledWhileWaitingToRetry_EndsWithoutAnotherAttempt()
    {
        var call = new ScriptedCall(Enumerable.Repeat(typeof(OrleansException), 5));
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ClusterRetry.RunAsync(call.RunAsync, attempts: 1, call.Retrying, cancellation.Token));

        Assert.Equal(1, call.Calls);
    }

    [Fact]
    public async Task RunAsync_CallWithoutResult_IsRetriedAlike()
    {
        var call = new ScriptedCall([typeof(OrleansException)]);

        await ClusterRetry.RunAsync(() => (Task)call.RunAsync(), attempts: 1, call.Retrying, Cancel);

        Assert.Equal(2, call.Calls);
        Assert.Equal([1], call.RetriedAttempts);
    }

    /// <summary>A call that fails with the given exception types in turn, then returns how many calls it took.</summary>
    private sealed class ScriptedCall(IEnumerable<Type> failures)
    {
        private readonly Queue<Type> _failures = new(failures);
        private readonly List<long> _startedAt = [];

        public int Calls => _startedAt.Count;

        public List<int> RetriedAttempts { get; } = [];

        public List<Exception> RetriedFailures { get; } = [];

        public List<TimeSpan> Gaps => [.. _startedAt.Zip(_startedAt.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b))];

        public async Task<int> RunAsync()
        {
            _startedAt.Add(Stopwatch.GetTimestamp());
            await Task.Yield();
            return _failures.TryDequeue(out var failure) ? throw (Exception)Activator.CreateInstance(failure, "scripted failure")! : Calls;
        }

        public void Retrying(Exception exception, int attempt)
        {
            RetriedFailures.Add(exception);
            RetriedAttempts.Add(attempt);
        }
    }
}
