using AgentTheater.Grains.Cluster;

namespace AgentTheater.Client.Hosting;

/// <summary>
/// Calls to a theater that outlast a silo failure: while membership declares the silo dead and its grains come back
/// elsewhere from storage, the call is retried (<see cref="ClusterRetry"/>), saying so on stderr.
/// </summary>
internal static class Patiently
{
    /// <summary>Runs <paramref name="call"/>, retrying it through a cluster failure.</summary>
    public static Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken) =>
        ClusterRetry.RunAsync(call, attempts: 1, Retrying, cancellationToken);

    /// <inheritdoc cref="CallAsync{T}(Func{Task{T}}, CancellationToken)"/>
    public static Task CallAsync(Func<Task> call, CancellationToken cancellationToken) =>
        ClusterRetry.RunAsync(call, attempts: 1, Retrying, cancellationToken);

    /// <summary>Says on stderr that a call is retried.</summary>
    public static void Retrying(Exception exception, int attempt) =>
        Console.Error.WriteLine($"  the cluster did not answer ({exception.GetType().Name}); retrying");
}
