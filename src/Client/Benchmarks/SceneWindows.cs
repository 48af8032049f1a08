using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Benchmarks;

/// <summary>What one window of consecutive character turns of a scene cost, and who spoke in it.</summary>
/// <param name="FromTurn">First turn of the window, from 1.</param>
/// <param name="ToTurn">Last turn of the window played (inclusive; short of the full window when the scene stopped in it).</param>
/// <param name="CharacterLines">Character lines spoken in the window.</param>
/// <param name="PrefillTokens">Prompt tokens the pool prefilled for them.</param>
/// <param name="PrefillPerLine">Prefill tokens per character line.</param>
/// <param name="Milliseconds">Pool time of the lines: queue plus generation, summed.</param>
/// <param name="MsPerLine">Pool milliseconds (queue plus generation) per character line.</param>
/// <param name="WallMsPerTurn">
/// Wall-clock milliseconds per turn as the client saw the lines arrive (choosing the speaker and storing the line
/// included); null when arrival times are unknown.
/// </param>
/// <param name="DroppedLines">
/// Lines newly dropped from the speakers' contexts in the window: each line's <see cref="SceneLine.OmittedLines"/> less
/// its speaker's previous one (when it grew), summed.
/// </param>
/// <param name="MaxOmittedLines">The most witnessed lines any prompt of the window left out.</param>
/// <param name="LinesBySpeaker">Character lines per character id, every character of the cast included (0 when silent).</param>
internal sealed record SceneWindow(
    int FromTurn,
    int ToTurn,
    int CharacterLines,
    long PrefillTokens,
    double PrefillPerLine,
    double Milliseconds,
    double MsPerLine,
    double? WallMsPerTurn,
    int DroppedLines,
    int MaxOmittedLines,
    IReadOnlyDictionary<string, int> LinesBySpeaker);

/// <summary>Groups a scene's character lines into windows of consecutive turns and works out each window's figures.</summary>
internal static class SceneWindows
{
    /// <summary>
    /// The windows of <paramref name="size"/> turns that <paramref name="lines"/> cover: turns 1 to <paramref name="size"/>,
    /// then the next <paramref name="size"/>, and so on, the last one as far as the lines go. Narration and interventions
    /// are left out.
    /// </summary>
    /// <param name="lines">The scene's transcript, in order.</param>
    /// <param name="cast">Character ids of the cast, in order (each gets a count in every window).</param>
    /// <param name="size">Turns per window.</param>
    /// <param name="turnEndSeconds">
    /// When each turn's line reached the client, in seconds from the start of play, by turn (from 0); null or too short
    /// for no wall-clock figure.
    /// </param>
    public static IReadOnlyList<SceneWindow> Compute(
        IReadOnlyList<SceneLine> lines, IReadOnlyList<string> cast, int size, IReadOnlyList<double>? turnEndSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(cast);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var spoken = lines.Where(l => l.Kind == LineKind.Character).OrderBy(l => l.Turn).ToList();
        var previousOmitted = new Dictionary<string, int>(StringComparer.Ordinal);
        var windows = new List<SceneWindow>();
        foreach (var group in spoken.GroupBy(l => l.Turn / size))
        {
            var inWindow = group.ToList();
            var bySpeaker = cast.ToDictionary(id => id, _ => 0, StringComparer.Ordinal);
            var dropped = 0;
            foreach (var line in inWindow)
            {
                var speaker = line.SpeakerId ?? line.Speaker;
                bySpeaker[speaker] = bySpeaker.GetValueOrDefault(speaker) + 1;
                dropped += Math.Max(0, line.OmittedLines - previousOmitted.GetValueOrDefault(speaker));
                previousOmitted[speaker] = line.OmittedLines;
            }

            var count = inWindow.Count;
            var prefill = inWindow.Sum(l => (long)l.PrefillTokens);
            var milliseconds = inWindow.Sum(l => l.QueueMilliseconds + l.GenerateMilliseconds);
            var first = group.Key * size;
            var last = inWindow[^1].Turn;
            windows.Add(new SceneWindow(
                first + 1,
                last + 1,
                count,
                prefill,
                (double)prefill / count,
                milliseconds,
                milliseconds / count,
                WallMsPerTurn(turnEndSeconds, first, last),
                dropped,
                inWindow.Max(l => l.OmittedLines),
                bySpeaker));
        }

        return windows;
    }

    /// <summary>
    /// The windows as a Markdown table, one column per character (headed by <paramref name="names"/>, by id), with a
    /// last row for the whole scene.
    /// </summary>
    public static string Markdown(IReadOnlyList<SceneWindow> windows, IReadOnlyList<(string Id, string Name)> names)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(names);
        var table = new StringBuilder();
        table.Append("| turns | lines | prefill tok/line | pool ms/line (queue+gen) | wall ms/turn | lines dropped | max omitted |");
        foreach (var (_, name) in names)
        {
            table.Append(CultureInfo.InvariantCulture, $" {name} |");
        }

        table.Append("\n|---|---:|---:|---:|---:|---:|---:|").Append(string.Concat(Enumerable.Repeat("---:|", names.Count))).Append('\n');
        foreach (var w in windows)
        {
            Row(table, $"{w.FromTurn}-{w.ToTurn}", w, names);
        }

        if (Total(windows) is { } total)
        {
            Row(table, "all", total, names);
        }

        return table.ToString();
    }

    /// <summary>The whole scene as one window (null when no character spoke).</summary>
    public static SceneWindow? Total(IReadOnlyList<SceneWindow> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (windows.Count == 0)
        {
            return null;
        }

        var lines = windows.Sum(w => w.CharacterLines);
        var prefill = windows.Sum(w => w.PrefillTokens);
        var milliseconds = windows.Sum(w => w.Milliseconds);
        var wall = windows.All(w => w.WallMsPerTurn is not null)
            ? windows.Sum(w => w.WallMsPerTurn!.Value * (w.ToTurn - w.FromTurn + 1)) / (windows[^1].ToTurn - windows[0].FromTurn + 1)
            : (double?)null;
        var bySpeaker = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (speaker, count) in windows.SelectMany(w => w.LinesBySpeaker))
        {
            bySpeaker[speaker] = bySpeaker.GetValueOrDefault(speaker) + count;
        }

        return new SceneWindow(
            windows[0].FromTurn,
            windows[^1].ToTurn,
            lines,
            prefill,
            (double)prefill / lines,
            milliseconds,
            milliseconds / lines,
            wall,
            windows.Sum(w => w.DroppedLines),
            windows.Max(w => w.MaxOmittedLines),
            bySpeaker);
    }

    private static double? WallMsPerTurn(IReadOnlyList<double>? turnEndSeconds, int first, int last)
    {
        if (turnEndSeconds is null || turnEndSeconds.Count <= last)
        {
            return null;
        }

        var start = first == 0 ? 0 : turnEndSeconds[first - 1];
        return (turnEndSeconds[last] - start) * 1000 / (last - first + 1);
    }

    private static void Row(StringBuilder table, string turns, SceneWindow w, IReadOnlyList<(string Id, string Name)> names)
    {
        var wall = w.WallMsPerTurn is { } ms ? ms.ToString("N0", CultureInfo.InvariantCulture) : "-";
        table.Append(CultureInfo.InvariantCulture,
            $"| {turns} | {w.CharacterLines:N0} | {w.PrefillPerLine:N1} | {w.MsPerLine:N0} | {wall} | {w.DroppedLines:N0} | {w.MaxOmittedLines:N0} |");
        foreach (var (id, _) in names)
        {
            table.Append(CultureInfo.InvariantCulture, $" {w.LinesBySpeaker.GetValueOrDefault(id):N0} |");
        }

        table.Append('\n');
    }
}
