using System.Globalization;
using System.Text;

namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>
/// The twenty-questions experiment's plot: per condition, the revealed object (sampled share against scored probability)
/// and how the scored reveal narrows as questions are answered, against the narrowing the answers allow.
/// </summary>
public static class TwentyQuestionsPlot
{
    /// <summary>Objects drawn one bar each; the others are summed into one "rest" bar.</summary>
    public const int TopObjects = 15;

    private const double Width = 1100, RowHeight = 380, Top = 50;
    private const double BarLabels = 130, BarLeft = 20 + BarLabels, BarWidth = 340, BarsTop = 40, BarRow = 18;
    private const double LineLeft = 640, LineWidth = 380, LineTop = 40, LineHeight = 250;
    private const string SampledColour = "#1f77b4", ScoredColour = "#ff7f0e", EntropyColour = "#d62728", ConsistentColour = "#2ca02c", MassColour = "#9467bd";

    /// <summary>One SVG with a row per condition (those in <paramref name="reveals"/> first, then any only in <paramref name="narrowing"/>).</summary>
    public static string Svg(string title, IReadOnlyList<RevealDistribution> reveals, IReadOnlyList<NarrowingCurve> narrowing)
    {
        var conditions = reveals.Select(r => r.Condition).Concat(narrowing.Select(n => n.Condition)).Distinct(StringComparer.Ordinal).ToList();
        var height = Top + (Math.Max(conditions.Count, 1) * RowHeight) + 10;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"20\" y=\"28\" font-size=\"15\">{Escape(title)}</text>\n"));
        if (conditions.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"20\" y=\"{Top + 30}\">no conditions to plot</text>\n"));
        }

        for (var i = 0; i < conditions.Count; i++)
        {
            var top = Top + (i * RowHeight);
            var condition = conditions[i];
            svg.Append(Invariant($"<g id=\"condition-{i}\"><text x=\"20\" y=\"{top + 16}\" font-size=\"14\" font-weight=\"bold\">{Escape(condition)}</text>\n"));
            Bars(svg, top, reveals.FirstOrDefault(r => r.Condition == condition));
            Lines(svg, top, narrowing.FirstOrDefault(n => n.Condition == condition));
            svg.Append("</g>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The <paramref name="top"/> objects by scored probability (ties by sampled share, then name), then one "rest" with the others summed when there are any.</summary>
    public static IReadOnlyList<ObjectShare> TopWithRest(IReadOnlyList<ObjectShare> objects, int top = TopObjects)
    {
        var ordered = objects.OrderByDescending(o => o.Scored).ThenByDescending(o => o.Sampled).ThenBy(o => o.Object, StringComparer.Ordinal).ToList();
        if (ordered.Count <= top)
        {
            return ordered;
        }

        var rest = ordered.Skip(top).ToList();
        return [.. ordered.Take(top), new ObjectShare($"rest ({rest.Count})", rest.Sum(o => o.Sampled), rest.Sum(o => o.Scored))];
    }

    // Horizontal bars: per object, the sampled share above the scored probability, on one scale.
    private static void Bars(StringBuilder svg, double top, RevealDistribution? reveal)
    {
        var y0 = top + BarsTop;
        svg.Append(Invariant($"<text x=\"{BarLeft}\" y=\"{top + 32}\">revealed object: sampled share and scored probability</text>\n"));
        if (reveal is null || reveal.Objects.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{BarLeft}\" y=\"{y0 + 20}\" fill=\"#777\">no reveals</text>\n"));
            return;
        }

        var shown = TopWithRest(reveal.Objects);
        var largest = shown.Max(o => Math.Max(Finite(o.Sampled), Finite(o.Scored)));
        var scale = Math.Max(0.1, Math.Ceiling(largest * 10) / 10);
        var bottom = y0 + (shown.Count * BarRow);
        double X(double share) => BarLeft + (Math.Clamp(Finite(share), 0, scale) / scale * BarWidth);
        for (var t = 0; t <= 4; t++)
        {
            var v = scale * t / 4;
            svg.Append(Invariant($"<line x1=\"{X(v):F1}\" y1=\"{y0}\" x2=\"{X(v):F1}\" y2=\"{bottom}\" stroke=\"#eee\"/><text x=\"{X(v):F1}\" y=\"{bottom + 14}\" text-anchor=\"middle\" font-size=\"10\">{v:0.###}</text>\n"));
        }

        for (var j = 0; j < shown.Count; j++)
        {
            var o = shown[j];
            var y = y0 + (j * BarRow);
            svg.Append(Invariant($"<text x=\"{BarLeft - 6}\" y=\"{y + 12}\" text-anchor=\"end\">{Escape(o.Object)}</text>\n"));
            svg.Append(Invariant($"<rect x=\"{BarLeft}\" y=\"{y + 2:F1}\" width=\"{X(o.Sampled) - BarLeft:F1}\" height=\"7\" fill=\"{SampledColour}\"><title>{Escape(o.Object)}: sampled {o.Sampled:P1}</title></rect>\n"));
            svg.Append(Invariant($"<rect x=\"{BarLeft}\" y=\"{y + 9:F1}\" width=\"{X(o.Scored) - BarLeft:F1}\" height=\"7\" fill=\"{ScoredColour}\"><title>{Escape(o.Object)}: scored {o.Scored:P1}</title></rect>\n"));
        }

        svg.Append(Invariant($"<line x1=\"{BarLeft}\" y1=\"{y0}\" x2=\"{BarLeft}\" y2=\"{bottom}\" stroke=\"#333\"/>\n"));
        Legend(svg, BarLeft + BarWidth - 90, bottom + 30, [("sampled", SampledColour, false), ("scored", ScoredColour, false)]);
    }

    // Bits on the left axis (scored entropy, log2 of the consistent objects), probability on the right (mass on the consistent objects).
    private static void Lines(StringBuilder svg, double top, NarrowingCurve? curve)
    {
        var y0 = top + LineTop;
        svg.Append(Invariant($"<text x=\"{LineLeft}\" y=\"{top + 32}\">narrowing after each question answered</text>\n"));
        var points = curve?.Points.Where(p => double.IsFinite(p.MeanEntropyBits) && double.IsFinite(p.MeanLog2Consistent)).OrderBy(p => p.Questions).ToList() ?? [];
        if (points.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{LineLeft}\" y=\"{y0 + 20}\" fill=\"#777\">no narrowing data</text>\n"));
            return;
        }

        var lastQuestion = Math.Max(1, points[^1].Questions);
        var bits = Math.Max(1, Math.Ceiling(points.Max(p => Math.Max(p.MeanEntropyBits, p.MeanLog2Consistent))));
        double X(int questions) => LineLeft + (questions / (double)lastQuestion * LineWidth);
        double Y(double value, double full) => y0 + LineHeight - (Math.Clamp(value, 0, full) / full * LineHeight);
        var step = Math.Max(1, (int)Math.Ceiling(lastQuestion / 10.0));
        for (var q = 0; q <= lastQuestion; q += step)
        {
            svg.Append(Invariant($"<line x1=\"{X(q):F1}\" y1=\"{y0}\" x2=\"{X(q):F1}\" y2=\"{y0 + LineHeight}\" stroke=\"#eee\"/><text x=\"{X(q):F1}\" y=\"{y0 + LineHeight + 14}\" text-anchor=\"middle\" font-size=\"10\">{q}</text>\n"));
        }

        for (var b = 0; b <= (int)bits; b++)
        {
            svg.Append(Invariant($"<line x1=\"{LineLeft}\" y1=\"{Y(b, bits):F1}\" x2=\"{LineLeft + LineWidth}\" y2=\"{Y(b, bits):F1}\" stroke=\"#eee\"/><text x=\"{LineLeft - 6}\" y=\"{Y(b, bits) + 4:F1}\" text-anchor=\"end\" font-size=\"10\">{b}</text>\n"));
        }

        for (var t = 0; t <= 4; t++)
        {
            svg.Append(Invariant($"<text x=\"{LineLeft + LineWidth + 6}\" y=\"{Y(t / 4.0, 1) + 4:F1}\" font-size=\"10\" fill=\"{MassColour}\">{t / 4.0:0.##}</text>\n"));
        }

        svg.Append(Invariant($"<rect x=\"{LineLeft}\" y=\"{y0}\" width=\"{LineWidth}\" height=\"{LineHeight}\" fill=\"none\" stroke=\"#333\"/>\n"));
        svg.Append(Invariant($"<text x=\"{LineLeft + (LineWidth / 2)}\" y=\"{y0 + LineHeight + 30}\" text-anchor=\"middle\">questions answered</text>\n"));
        svg.Append(Invariant($"<text x=\"{LineLeft - 28}\" y=\"{y0 + (LineHeight / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 {LineLeft - 28} {y0 + (LineHeight / 2)})\">bits</text>\n"));
        Polyline(points.Select(p => (p.Questions, Y(p.MeanEntropyBits, bits), p.MeanEntropyBits)), EntropyColour, dashed: false, "entropy {0:F2} bits");
        Polyline(points.Select(p => (p.Questions, Y(p.MeanLog2Consistent, bits), p.MeanLog2Consistent)), ConsistentColour, dashed: false, "log2 consistent {0:F2}");
        Polyline(points.Where(p => double.IsFinite(p.MeanConsistentMass)).Select(p => (p.Questions, Y(p.MeanConsistentMass, 1), p.MeanConsistentMass)), MassColour, dashed: true, "consistent mass {0:P1}");
        Legend(svg, LineLeft, y0 + LineHeight + 48,
            [("scored reveal entropy (bits)", EntropyColour, false), ("log2 consistent objects", ConsistentColour, false), ("scored mass on consistent objects (right axis)", MassColour, true)]);

        void Polyline(IEnumerable<(int Questions, double Y, double Value)> line, string colour, bool dashed, string tooltip)
        {
            var drawn = line.ToList();
            var dash = dashed ? " stroke-dasharray=\"5 3\"" : "";
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{string.Join(' ', drawn.Select(p => Invariant($"{X(p.Questions):F1},{p.Y:F1}")))}\"/>\n"));
            foreach (var p in drawn)
            {
                var text = string.Format(CultureInfo.InvariantCulture, tooltip, p.Value);
                svg.Append(Invariant($"<circle cx=\"{X(p.Questions):F1}\" cy=\"{p.Y:F1}\" r=\"2.5\" fill=\"{colour}\"><title>after {p.Questions}: {Escape(text)}</title></circle>\n"));
            }
        }
    }

    private static void Legend(StringBuilder svg, double x, double y, IReadOnlyList<(string Label, string Colour, bool Dashed)> entries)
    {
        foreach (var (label, colour, dashed) in entries)
        {
            var dash = dashed ? " stroke-dasharray=\"5 3\"" : "";
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{y - 4}\" x2=\"{x + 18}\" y2=\"{y - 4}\" stroke=\"{colour}\" stroke-width=\"6\"{dash}/><text x=\"{x + 24}\" y=\"{y}\">{Escape(label)}</text>\n"));
            y += 16;
        }
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
