namespace AgentTheater.Client.Progress;

/// <summary>
/// Progress as plain lines, for a stderr that is a file or a pipe: one line per update, at most one per
/// <see cref="Interval"/>, and the last update when the work ends, so a log reads as separate lines that end where the
/// work ended (not one line of carriage returns).
/// </summary>
internal sealed class LineProgress(TextWriter writer, TimeProvider clock) : IProgress<ProgressUpdate>
{
    /// <summary>The least time between two lines.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly long _started = clock.GetTimestamp();
    private readonly Lock _gate = new();
    private ProgressUpdate? _latest;
    private long? _writtenAt;
    private bool _latestWritten;

    public void Report(ProgressUpdate value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            _latest = value;
            _latestWritten = false;
            var now = clock.GetTimestamp();
            if (_writtenAt is not { } written || clock.GetElapsedTime(written, now) >= Interval)
            {
                Write(value, now);
            }
        }
    }

    /// <summary>Writes the last update when the interval held it back.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_latest is { } latest && !_latestWritten)
            {
                Write(latest, clock.GetTimestamp());
            }
        }
    }

    private void Write(ProgressUpdate update, long now)
    {
        writer.WriteLine(FormattableString.Invariant($"  {update.Text}, {clock.GetElapsedTime(_started, now).TotalSeconds:N0} s"));
        writer.Flush();
        _writtenAt = now;
        _latestWritten = true;
    }
}
