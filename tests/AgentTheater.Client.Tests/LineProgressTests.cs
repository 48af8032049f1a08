using AgentTheater.Client.Progress;

namespace AgentTheater.Client.Tests;

/// <summary>Progress written to a file or a pipe: separate lines, at most one a second, ending where the work ended.</summary>
public sealed class LineProgressTests
{
    [Fact]
    public void Report_UpdatesWithinASecond_WritesAtMostOneLineASecond()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new LineProgress(output, clock);

        foreach (var (at, done) in new[] { (0.0, 0), (0.2, 1), (0.9, 2), (1.0, 3), (1.4, 4), (2.6, 5) })
        {
            clock.Now = TimeSpan.FromSeconds(at);
            progress.Report(new ProgressUpdate(done, 10, $"scenes {done}/10 done"));
        }

        Assert.Equal(["  scenes 0/10 done, 0 s", "  scenes 3/10 done, 1 s", "  scenes 5/10 done, 3 s"], Lines(output));
    }

    [Fact]
    public void Complete_LastUpdateHeldBack_WritesIt()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new LineProgress(output, clock);
        progress.Report(new ProgressUpdate(0, 2, "branches 0/2 done"));
        clock.Now = TimeSpan.FromSeconds(0.6);
        progress.Report(new ProgressUpdate(2, 2, "branches 2/2 done"));

        progress.Complete();
        progress.Complete();

        Assert.Equal(["  branches 0/2 done, 0 s", "  branches 2/2 done, 1 s"], Lines(output));
    }

    [Fact]
    public void Complete_LastUpdateWritten_WritesNothingMore()
    {
        var output = new StringWriter();
        var progress = new LineProgress(output, new ManualClock());
        progress.Report(new ProgressUpdate(1, 1, "games 1/1 played"));

        progress.Complete();

        Assert.Single(Lines(output));
    }

    [Fact]
    public void Complete_NothingReported_WritesNothing()
    {
        var output = new StringWriter();

        new LineProgress(output, new ManualClock()).Complete();

        Assert.Empty(output.ToString());
    }

    private static string[] Lines(StringWriter output)
    {
        var text = output.ToString();
        Assert.DoesNotContain('\r', text);
        return text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>A clock the test moves by hand (the clock is the boundary LineProgress reads time through).</summary>
    private sealed class ManualClock : TimeProvider
    {
        public TimeSpan Now { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now.Ticks;
    }
}
