using System.Globalization;
using System.Text;

namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>Everything the twenty-questions experiment measured, as written to <c>results.json</c>.</summary>
/// <param name="ExperimentId">The experiment's id (its folder's name).</param>
/// <param name="Model">The model played.</param>
/// <param name="Settings">How it was played.</param>
/// <param name="Catalogue">The catalogue objects, in the order of every game's <c>scored</c> probabilities.</param>
/// <param name="Conditions">Per condition, the figures over its games.</param>
/// <param name="Games">Every game.</param>
/// <param name="WallSeconds">Wall time.</param>
public sealed record TwentyQuestionsResults(
    string ExperimentId,
    string Model,
    TwentyQuestionsSettings Settings,
    IReadOnlyList<string> Catalogue,
    IReadOnlyList<TwentyQuestionsConditionSummary> Conditions,
    IReadOnlyList<TwentyQuestionsGameResult> Games,
    double WallSeconds);

/// <summary>The experiment's table (terminal and Markdown) and per-game report.</summary>
public static class TwentyQuestionsReport
{
    /// <summary>One row per condition.</summary>
    public static string Table(TwentyQuestionsResults r)
    {
        var text = new StringBuilder();
        text.Append("| condition | games | reveals | named an object | distinct per game | reveal entropy (bits) | consistent reveals | by chance | the secret | scored entropy (bits) | scored mass on consistent | scored on the secret | chi-square p (df) |\n");
        text.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var c in r.Conditions)
        {
            text.Append(Invariant($"| {c.Condition} | {c.Games} | {c.Reveals} | {Percent(c.Named, c.Reveals)} | {c.MeanDistinctPerGame:F2} | {c.MeanRevealEntropyBits:F2} | {c.ConsistentShare:P1} | {c.ChanceConsistentShare:P1} | {Optional(c.SecretShare)} | {c.MeanScoredEntropyBits:F2} | {c.MeanScoredConsistentMass:P1} | {Optional(c.MeanScoredSecretProbability)} | {ChiSquare(c.ChiSquare)} |\n"));
        }

        return text.ToString();
    }

    /// <summary>The Markdown report: settings, the table, what each column means, the narrowing, then every game.</summary>
    public static string Markdown(TwentyQuestionsResults r)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        text.Append(Invariant($"# Twenty questions: {r.ExperimentId}\n\n"));
        text.Append(Invariant($"Model `{Path.GetFileName(r.Model)}`; {s.Games} games per condition, {s.Questions} questions each, {s.Branches} reveal branches per game, seed {s.Seed}; {r.WallSeconds:N0} s.\n\n"));
        text.Append(Table(r));
        text.Append("""

            - *named an object*: reveals that name a catalogue object; *distinct per game* and *reveal entropy*: over one game's branches, averaged.
            - *consistent reveals*: named objects that agree with every answer the game read; *by chance*: the same for an object drawn uniformly from the catalogue.
            - *scored*: every catalogue object's reveal ("It was a X") scored after the narrator's question, normalised over the catalogue: the distribution the simulator holds.
            - *chi-square*: the canonical sampled reveals, pooled over games, against the scored distributions (expected n p per game).

            """);
        foreach (var c in r.Conditions)
        {
            text.Append(Invariant($"\n## {c.Condition}: narrowing question by question\n\n"));
            text.Append(Invariant($"{c.MeanQuestions:F1} questions per game, {c.QuestionsRead:P0} read as a catalogue question with a yes or no; {c.MeanConsistentObjects:F1} objects consistent at the end ({c.ContradictoryGames} games with none). Fork: {c.MeanForkPrefillTokens:F0} tokens prefilled per game (once for all branches); each reveal line decoded {c.MeanRevealPrefillTokens:F1} prompt tokens.\n\n"));
            text.Append("| questions | scored entropy (bits) | log2 consistent objects | scored mass on consistent |\n|---:|---:|---:|---:|\n");
            foreach (var p in c.Narrowing.Points)
            {
                text.Append(Invariant($"| {p.Questions} | {p.MeanEntropyBits:F2} | {p.MeanLog2Consistent:F2} | {p.MeanConsistentMass:P1} |\n"));
            }
        }

        text.Append("\n## Games\n\n| game | secret | questions read | consistent objects | reveals (object, consistent?) | scored top 3 | scored entropy |\n|---|---|---:|---:|---|---|---:|\n");
        foreach (var g in r.Games)
        {
            var reveals = string.Join(", ", g.Reveals.Select(v => v.Object is null ? "-" : v.Object + (v.Consistent == true ? " ✓" : " ✗")));
            var top = string.Join(", ", g.Scored.Select((p, i) => (Object: r.Catalogue[i], P: p)).OrderByDescending(x => x.P).Take(3).Select(x => Invariant($"{x.Object} {x.P:P0}")));
            text.Append(Invariant($"| {g.Condition}-{g.Game} | {g.Secret ?? "-"} | {g.Questions.Count(q => q.Asked is not null && q.Yes is not null)}/{g.Questions.Count} | {g.ConsistentObjects.Count} | {reveals} | {top} | {g.Narrowing[^1].EntropyBits:F2} |\n"));
        }

        return text.ToString();
    }

    private static string Percent(int part, int whole) => whole == 0 ? "-" : Invariant($"{(double)part / whole:P1}");

    private static string Optional(double? value) => value is { } v ? Invariant($"{v:P1}") : "-";

    private static string ChiSquare(ChiSquareResult? chi) => chi is { } c ? Invariant($"{c.PValue:G3} ({c.DegreesOfFreedom})") : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
