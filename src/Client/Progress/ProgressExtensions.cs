namespace AgentTheater.Client.Progress;

/// <summary>Adapts the progress records of the analysis to the display.</summary>
internal static class ProgressExtensions
{
    /// <summary>
    /// A progress that turns each <typeparamref name="T"/> into a display update with <paramref name="map"/>, at once
    /// and on the reporting thread (<see cref="Progress{T}"/> would post it to the thread pool, out of order).
    /// </summary>
    public static IProgress<T> Select<T>(this IProgress<ProgressUpdate> progress, Func<T, ProgressUpdate> map) =>
        new Mapped<T>(progress, map);

    private sealed class Mapped<T>(IProgress<ProgressUpdate> progress, Func<T, ProgressUpdate> map) : IProgress<T>
    {
        public void Report(T value) => progress.Report(map(value));
    }
}
