namespace AgentTheater.Client.Progress;

/// <summary>
/// A file writer's share done (0 to 1) as progress in whole percents, reported synchronously and only forward
/// (<see cref="Progress{T}"/> posts to the thread pool, out of order).
/// </summary>
/// <param name="progress">Where the percents go.</param>
/// <param name="verb">What is being done, e.g. "written" ("written 42%").</param>
internal sealed class PercentProgress(IProgress<ProgressUpdate> progress, string verb) : IProgress<double>
{
    private int _last = -1;

    public void Report(double value)
    {
        var percent = (int)(value * 100);
        if (percent > _last)
        {
            _last = percent;
            progress.Report(new ProgressUpdate(percent, 100, FormattableString.Invariant($"{verb} {percent}%")));
        }
    }
}
