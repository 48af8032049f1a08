using System.Globalization;
using System.Text;
using AgentTheater.Grains.Attribution;

namespace AgentTheater.Analysis.Takeovers;

/// <summary>Everything <c>takeovers evaluate</c> measured; written as <c>evaluation.json</c>.</summary>
/// <param name="Set">The labelled set file.</param>
/// <param name="Model">The model scored with.</param>
/// <param name="Settings">The detector settings attribution ran with (sharpness, threshold, margin, k, trigger window).</param>
/// <param name="Defaults">The shipped defaults.</param>
/// <param name="Lines">Character lines attributed.</param>
/// <param name="FailedLines">Lines whose scoring failed.</param>
/// <param name="Seconds">Wall time of scoring the set.</param>
/// <param name="Detection">Detection and triggers at <paramref name="Settings"/>, from the grain's own takeovers.</param>
/// <param name="ReplayMatches">Replaying the recorded scores at <paramref name="Settings"/> finds exactly the grain's takeovers.</param>
/// <param name="Forced">Forced takeovers, when a forced run was evaluated.</param>
/// <param name="ForcedRun">Its run folder.</param>
/// <param name="Sweep">Every grid setting, best first.</param>
/// <param name="Scenes">Per scene: its label and the takeovers found.</param>
/// <param name="Screen">The first stage replayed at each screen margin, at the run's detector settings.</param>
public sealed record EvaluationResult(
    string Set,
    string Model,
    SettingsUsed Settings,
    SettingsUsed Defaults,
    int Lines,
    int FailedLines,
    double Seconds,
    DetectionMetrics Detection,
    bool ReplayMatches,
    ForcedMetrics? Forced,
    string? ForcedRun,
    IReadOnlyList<SweepRow> Sweep,
    IReadOnlyList<SceneOutcome> Scenes,
    IReadOnlyList<ScreenRow> Screen);

/// <summary>Detector settings as reported.</summary>
public sealed record SettingsUsed(double Sharpness, double Threshold, double Margin, int ConsecutiveLines, int TriggerWindow, double? ScreenMargin)
{
    public static SettingsUsed From(AttributionOptions o) =>
        new(o.Sharpness, o.Threshold, o.Margin, o.ConsecutiveLines, o.TriggerWindow, o.Screen ? o.ScreenMargin : null);

    public bool Is(SweepPoint p) =>
        p.Sharpness == Sharpness && p.Detector.Threshold == Threshold && p.Detector.Margin == Margin && p.Detector.ConsecutiveLines == ConsecutiveLines;
}

/// <summary>One grid setting in the report.</summary>
public sealed record SweepRow(int Rank, double Sharpness, double Threshold, double Margin, int ConsecutiveLines,
    double Precision, double Recall, double F1, int TruePositives, int FalsePositives, double? MeanDetectionDelay, bool Defaults, bool Used)
{
    public static SweepRow From(int rank, SweepPoint p, SettingsUsed defaults, SettingsUsed used) => new(
        rank, p.Sharpness, p.Detector.Threshold, p.Detector.Margin, p.Detector.ConsecutiveLines, p.Metrics.Precision, p.Metrics.Recall,
        p.Metrics.F1, p.Metrics.TruePositives, p.Metrics.FalsePositives, p.Metrics.MeanDetectionDelay, defaults.Is(p), used.Is(p));
}

/// <summary>
/// The first stage at one screen margin (null: no screening), replayed on the recorded scores: how many lines it holds
/// without the other roles, and what the detector then finds.
/// </summary>
public sealed record ScreenRow(
    double? ScreenMargin, int ScreenedLines, int Lines, double Precision, double Recall, double F1, int TruePositives, int FalsePositives, bool Defaults, bool Used)
{
    /// <summary>Screen margins replayed besides no screening.</summary>
    public static readonly IReadOnlyList<double> Margins = [0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1];

    /// <summary>Share of lines held by the first stage.</summary>
    public double ScreenedShare => Lines == 0 ? 0 : (double)ScreenedLines / Lines;
}

/// <summary>The terminal table and the precision-recall plot of an evaluation.</summary>
public static class EvaluationReport
{
    private const int TopRows = 10;

    public static string Table(EvaluationResult r)
    {
        var text = new StringBuilder();
        var d = r.Detection;
        var s = r.Settings;
        text.Append(Invariant($"labelled set {r.Set}: {d.Scenes:N0} scenes, {r.Lines:N0} character lines attributed ({r.FailedLines} failed) in {r.Seconds:N0} s\n"));
        text.Append(Invariant($"model {r.Model}; sharpness {s.Sharpness:G}, threshold {s.Threshold:G}, margin {s.Margin:G}, k {s.ConsecutiveLines}, trigger window {s.TriggerWindow}\n\n"));
        text.Append("| kind | scenes | with takeovers | takeovers | on the pushed character |\n|---|---:|---:|---:|---:|\n");
        foreach (var k in d.Kinds)
        {
            text.Append(Invariant($"| {k.Kind.ToString().ToLowerInvariant()} | {k.Scenes} | {k.ScenesWithTakeovers} | {k.Takeovers} | {(k.Kind == LabelKind.None ? "-" : k.OnTarget.ToString(CultureInfo.InvariantCulture))} |\n"));
        }

        text.Append("\n| precision | recall | F1 | detected | false | missed | detection delay (mean, median) | onset delay | trigger accuracy | role named |\n");
        text.Append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        text.Append(Invariant($"| {d.Precision:F3} | {d.Recall:F3} | {d.F1:F3} | {d.TruePositives} | {d.FalsePositives} | {d.Misses} | {Number(d.MeanDetectionDelay)}, {Number(d.MedianDetectionDelay)} | {Number(d.MeanOnsetDelay)} | {Trigger(d)} | {d.RoleNamed}/{d.TruePositives} |\n"));
        text.Append("\nDelays in the pushed character's lines after its first reply (0: at that line). A takeover is right when it is the pushed\n");
        text.Append("character's, in a comply scene, and begins at or after its first line after the push; every other takeover is false.\n");
        if (!r.ReplayMatches)
        {
            text.Append("warning: replaying the recorded scores at the run's settings does not give the grain's takeovers.\n");
        }

        if (r.Forced is { } f)
        {
            text.Append(Invariant($"\nforced takeovers ({r.ForcedRun}): {f.Detected}/{f.Forced} detected ({f.DetectionRate:P0}), delay {Number(f.MeanDelay)} mean, {Number(f.MedianDelay)} median forced lines; "));
            text.Append(Invariant($"forced role named {f.RoleNamed}/{f.Detected}; {f.EarlyTakeovers} takeovers before the forced turn; {f.FalseTakeovers} takeovers of {f.UnforcedCharacters} characters never forced\n"));
        }

        if (r.Screen.Count > 0)
        {
            text.Append("\nfirst stage replayed on the recorded scores at this run's detector settings (after a screened run, only the margins that screen as much)\n\n");
            text.Append("| screen margin | lines screened | precision | recall | F1 | detected | false |\n|---:|---:|---:|---:|---:|---:|---:|\n");
            foreach (var row in r.Screen)
            {
                var mark = row.Defaults ? " (default)" : row.Used ? " (this run)" : "";
                var margin = row.ScreenMargin is { } m ? m.ToString("G", CultureInfo.InvariantCulture) : "off";
                text.Append(Invariant($"| {margin}{mark} | {row.ScreenedLines:N0} ({row.ScreenedShare:P0}) | {row.Precision:F3} | {row.Recall:F3} | {row.F1:F3} | {row.TruePositives} | {row.FalsePositives} |\n"));
            }
        }

        text.Append(Invariant($"\nsweep: {r.Sweep.Count:N0} settings replayed on the recorded scores, best first (F1, then precision)\n\n"));
        text.Append("| rank | sharpness | threshold | margin | k | precision | recall | F1 | detected | false | delay |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var row in r.Sweep.Take(TopRows).Concat(r.Sweep.Skip(TopRows).Where(w => w.Defaults || w.Used)))
        {
            var mark = row.Defaults ? " (defaults)" : row.Used ? " (this run)" : "";
            text.Append(Invariant($"| {row.Rank}{mark} | {row.Sharpness:G} | {row.Threshold:G} | {row.Margin:G} | {row.ConsecutiveLines} | {row.Precision:F3} | {row.Recall:F3} | {row.F1:F3} | {row.TruePositives} | {row.FalsePositives} | {Number(row.MeanDetectionDelay)} |\n"));
        }

        return text.ToString();
    }

    /// <summary>Precision against recall of every grid setting, coloured by k; the defaults and the best circled.</summary>
    public static string Plot(EvaluationResult r)
    {
        const double width = 640, height = 520, left = 60, top = 40, size = 420;
        string[] colours = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
        double X(double recall) => left + recall * size;
        double Y(double precision) => top + (1 - precision) * size;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"{left}\" y=\"24\" font-size=\"14\">Takeover detection on {Escape(Path.GetFileName(r.Set))}: precision against recall, {r.Sweep.Count} settings</text>\n"));
        for (var i = 0; i <= 10; i++)
        {
            var v = i / 10.0;
            svg.Append(Invariant($"<line x1=\"{X(v)}\" y1=\"{top}\" x2=\"{X(v)}\" y2=\"{top + size}\" stroke=\"#eee\"/><line x1=\"{left}\" y1=\"{Y(v)}\" x2=\"{left + size}\" y2=\"{Y(v)}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<text x=\"{X(v)}\" y=\"{top + size + 16}\" text-anchor=\"middle\">{v:0.0}</text><text x=\"{left - 6}\" y=\"{Y(v) + 4}\" text-anchor=\"end\">{v:0.0}</text>\n"));
        }

        svg.Append(Invariant($"<rect x=\"{left}\" y=\"{top}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#333\"/>\n"));
        svg.Append(Invariant($"<text x=\"{left + size / 2}\" y=\"{top + size + 34}\" text-anchor=\"middle\">recall</text>\n"));
        svg.Append(Invariant($"<text x=\"16\" y=\"{top + size / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {top + size / 2})\">precision</text>\n"));
        foreach (var row in r.Sweep.Reverse())
        {
            var colour = colours[(row.ConsecutiveLines - 1) % colours.Length];
            svg.Append(Invariant($"<circle cx=\"{X(row.Recall):F1}\" cy=\"{Y(row.Precision):F1}\" r=\"3\" fill=\"{colour}\" fill-opacity=\"0.35\"><title>s {row.Sharpness:G}, threshold {row.Threshold:G}, margin {row.Margin:G}, k {row.ConsecutiveLines}: P {row.Precision:F3} R {row.Recall:F3} F1 {row.F1:F3}</title></circle>\n"));
        }

        var legend = top + 10.0;
        foreach (var k in r.Sweep.Select(w => w.ConsecutiveLines).Distinct().Order())
        {
            svg.Append(Invariant($"<circle cx=\"{left + size + 24}\" cy=\"{legend}\" r=\"4\" fill=\"{colours[(k - 1) % colours.Length]}\"/><text x=\"{left + size + 34}\" y=\"{legend + 4}\">k = {k}</text>\n"));
            legend += 18;
        }

        if (r.Sweep.Count > 0 && r.Sweep[0] is var best)
        {
            Mark(best, "#000", $"best: s {best.Sharpness:G}, t {best.Threshold:G}, m {best.Margin:G}, k {best.ConsecutiveLines} (F1 {best.F1:F2})");
        }

        if (r.Sweep.FirstOrDefault(w => w.Defaults) is { } defaults)
        {
            Mark(defaults, "#d62728", $"defaults (F1 {defaults.F1:F2}, rank {defaults.Rank})");
        }

        svg.Append("</svg>\n");
        return svg.ToString();

        void Mark(SweepRow row, string colour, string label)
        {
            svg.Append(Invariant($"<circle cx=\"{X(row.Recall):F1}\" cy=\"{Y(row.Precision):F1}\" r=\"8\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n"));
            svg.Append(Invariant($"<circle cx=\"{left + size + 24}\" cy=\"{legend + 6}\" r=\"6\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{left + size + 34}\" y=\"{legend + 10}\" fill=\"{colour}\">{Escape(label.Split(':')[0].Split(' ')[0])}</text>\n"));
            svg.Append(Invariant($"<text x=\"{left}\" y=\"{height - (colour == "#000" ? 26 : 10)}\" fill=\"{colour}\">{Escape(label)}</text>\n"));
            legend += 20;
        }
    }

    private static string Trigger(DetectionMetrics d) =>
        d.TriggerAccuracy is { } accuracy ? Invariant($"{accuracy:F3} ({d.TriggersRight}/{d.TriggersSearched})") : "-";

    private static string Number(double? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "-";

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
