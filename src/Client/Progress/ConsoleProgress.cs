using Spectre.Console;

namespace AgentTheater.Client.Progress;

/// <summary>
/// Shows the progress of long work on stderr, where it never mixes with the tables and paths a command prints on
/// stdout: a live Spectre.Console display (bar, percentage, elapsed time) when stderr is a terminal; otherwise plain
/// lines (<see cref="LineProgress"/>).
/// </summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/>, showing what it reports.</summary>
    public static async Task<T> ShowAsync<T>(Func<IProgress<ProgressUpdate>, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (LiveConsole() is { } console)
        {
            return await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("starting", maxValue: 1);
                    var result = await work(new LiveTask(task));
                    task.StopTask();
                    return result;
                });
        }

        var lines = new LineProgress(Console.Error, TimeProvider.System);
        try
        {
            return await work(lines);
        }
        finally
        {
            lines.Complete();
        }
    }

    /// <inheritdoc cref="ShowAsync{T}(Func{IProgress{ProgressUpdate}, Task{T}})"/>
    public static T Show<T>(Func<IProgress<ProgressUpdate>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ShowAsync(progress => Task.FromResult(work(progress))).GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="ShowAsync{T}(Func{IProgress{ProgressUpdate}, Task{T}})"/>
    public static void Show(Action<IProgress<ProgressUpdate>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Show(progress =>
        {
            work(progress);
            return true;
        });
    }

    /// <summary>A console on stderr that can redraw in place; null when stderr is redirected or cannot take ANSI codes.</summary>
    private static IAnsiConsole? LiveConsole()
    {
        if (Console.IsErrorRedirected)
        {
            return null;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Profile.Capabilities.Ansi && console.Profile.Capabilities.Interactive ? console : null;
    }

    private sealed class LiveTask(ProgressTask task) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value)
        {
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = Math.Min(value.Done, task.MaxValue);
            task.Description = Markup.Escape(value.Text);
        }
    }
}
