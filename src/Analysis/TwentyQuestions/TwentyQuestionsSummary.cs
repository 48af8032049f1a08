namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>One question of a played game and its answer, as spoken and as read.</summary>
/// <param name="Question">The questioner's line.</param>
/// <param name="Answer">The answerer's line.</param>
/// <param name="Asked">What it asks (null when it is not a catalogue question).</param>
/// <param name="Yes">The answer read (null when it is neither yes nor no).</param>
/// <param name="ConsistentAfter">Catalogue objects consistent with every answer read so far, this one included.</param>
public sealed record PlayedQuestion(string Question, string Answer, TwentyQuestionsQuestion? Asked, bool? Yes, int ConsistentAfter);

/// <summary>One branch's answer to "what was the object?".</summary>
/// <param name="Branch">Branch number.</param>
/// <param name="Text">The line.</param>
/// <param name="Object">The catalogue object it names (null: none).</param>
/// <param name="Canonical">True when the line is the trained reveal, "It was a X".</param>
/// <param name="Consistent">True when the object agrees with every earlier answer (null when no object is named).</param>
/// <param name="PrefillTokens">Prompt tokens the pool decoded for the line (the copied sequence held the rest).</param>
public sealed record RevealSample(int Branch, string Text, string? Object, bool Canonical, bool? Consistent, int PrefillTokens);

/// <summary>The scored reveal distribution after some questions.</summary>
/// <param name="Questions">Questions asked so far (answered or not).</param>
/// <param name="Consistent">Catalogue objects consistent with the answers read so far.</param>
/// <param name="EntropyBits">Entropy of the scored distribution over the catalogue, in bits.</param>
/// <param name="ConsistentMass">Its probability on the consistent objects.</param>
/// <param name="SecretProbability">Its probability on the secret object (committed games only).</param>
public sealed record NarrowingStep(int Questions, int Consistent, double EntropyBits, double ConsistentMass, double? SecretProbability);

/// <summary>One game: what was asked and answered, the sampled reveals, and the scored distribution.</summary>
/// <param name="Condition">uncommitted or committed.</param>
/// <param name="Game">Game number within the condition.</param>
/// <param name="SceneKey">The game's scene.</param>
/// <param name="Secret">The object in the answerer's card (committed), else null.</param>
/// <param name="Questions">Questions and answers in order.</param>
/// <param name="ConsistentObjects">Objects consistent with every answer read.</param>
/// <param name="Reveals">One per branch.</param>
/// <param name="Scored">Probability of each catalogue object's reveal after the last question (catalogue order).</param>
/// <param name="Narrowing">The scored distribution after 0, 1, ... questions.</param>
/// <param name="ForkPrefillTokens">Tokens decoded to bring the game's sequences to the fork point (once for every branch).</param>
/// <param name="ForkCopiedTokens">Tokens the fork copied into the branches' sequences.</param>
public sealed record TwentyQuestionsGameResult(
    string Condition,
    int Game,
    string SceneKey,
    string? Secret,
    IReadOnlyList<PlayedQuestion> Questions,
    IReadOnlyList<string> ConsistentObjects,
    IReadOnlyList<RevealSample> Reveals,
    IReadOnlyList<double> Scored,
    IReadOnlyList<NarrowingStep> Narrowing,
    long ForkPrefillTokens,
    long ForkCopiedTokens);

/// <summary>A condition's figures over its games.</summary>
/// <param name="Condition">uncommitted or committed.</param>
/// <param name="Games">Games played.</param>
/// <param name="Reveals">Reveal lines sampled (games x branches).</param>
/// <param name="Named">Reveals that name a catalogue object.</param>
/// <param name="Canonical">Reveals in the trained form ("It was a X").</param>
/// <param name="MeanDistinctPerGame">Distinct objects named per game.</param>
/// <param name="MeanRevealEntropyBits">Entropy of a game's named reveals, in bits, averaged over games.</param>
/// <param name="ConsistentShare">Share of the named reveals consistent with every earlier answer.</param>
/// <param name="ChanceConsistentShare">The same for an object drawn uniformly from the catalogue (the answers' own narrowing).</param>
/// <param name="SecretShare">Share of the named reveals that are the secret (committed), else null.</param>
/// <param name="MeanQuestions">Questions per game.</param>
/// <param name="QuestionsRead">Share of the questions read as catalogue questions with a yes or no answer.</param>
/// <param name="MeanConsistentObjects">Objects consistent with the answers at the end, per game.</param>
/// <param name="ContradictoryGames">Games whose answers no catalogue object satisfies.</param>
/// <param name="MeanScoredEntropyBits">Entropy of the scored reveal distribution at the end, averaged over games.</param>
/// <param name="MeanScoredConsistentMass">Its probability on the consistent objects, averaged over games.</param>
/// <param name="MeanScoredSecretProbability">Its probability on the secret (committed), else null.</param>
/// <param name="ChiSquare">Sampled canonical reveals against the scored distributions (null without canonical reveals).</param>
/// <param name="TotalVariation">Distance between the pooled sampled and expected shares of the canonical reveals.</param>
/// <param name="MeanForkPrefillTokens">Tokens decoded per fork to bring the game to the fork point (once for all branches).</param>
/// <param name="MeanRevealPrefillTokens">Prompt tokens decoded per reveal line (the rest came from the copied sequence).</param>
/// <param name="Distribution">Every object's sampled share and mean scored probability.</param>
/// <param name="Narrowing">Mean entropy, log2 consistent objects and consistent mass after each number of questions.</param>
public sealed record TwentyQuestionsConditionSummary(
    string Condition,
    int Games,
    int Reveals,
    int Named,
    int Canonical,
    double MeanDistinctPerGame,
    double MeanRevealEntropyBits,
    double ConsistentShare,
    double ChanceConsistentShare,
    double? SecretShare,
    double MeanQuestions,
    double QuestionsRead,
    double MeanConsistentObjects,
    int ContradictoryGames,
    double MeanScoredEntropyBits,
    double MeanScoredConsistentMass,
    double? MeanScoredSecretProbability,
    ChiSquareResult? ChiSquare,
    double? TotalVariation,
    double MeanForkPrefillTokens,
    double MeanRevealPrefillTokens,
    IReadOnlyList<ObjectShare> Distribution,
    NarrowingCurve Narrowing);

/// <summary>Sums games up per condition.</summary>
public static class TwentyQuestionsSummary
{
    /// <summary>The figures of one condition's games (all of one condition).</summary>
    public static TwentyQuestionsConditionSummary Summarize(ObjectCatalogue catalogue, string condition, IReadOnlyList<TwentyQuestionsGameResult> games)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(games);
        var objects = catalogue.Objects;
        var reveals = games.SelectMany(g => g.Reveals).ToList();
        var named = reveals.Where(r => r.Object is not null).ToList();
        var perGame = games.Select(g => g.Reveals.Where(r => r.Object is not null).GroupBy(r => r.Object!).Select(x => x.Count()).ToList()).ToList();

        // Chance: a reveal drawn uniformly from the catalogue is consistent with probability |consistent| / |catalogue|.
        var chance = named.Count == 0 ? 0 : games.Sum(g => g.Reveals.Count(r => r.Object is not null) * (double)g.ConsistentObjects.Count / objects.Count) / named.Count;

        // Chi-square of the canonical reveals against the scored distributions: a game with n canonical reveals expects n p(o) of object o.
        var observed = new double[objects.Count];
        var expected = new double[objects.Count];
        foreach (var game in games)
        {
            var canonical = game.Reveals.Where(r => r.Canonical && r.Object is not null).ToList();
            foreach (var reveal in canonical)
            {
                observed[catalogue.IndexOf(reveal.Object!)]++;
            }

            for (var o = 0; o < objects.Count; o++)
            {
                expected[o] += canonical.Count * game.Scored[o];
            }
        }

        var canonicalCount = (int)observed.Sum();
        ChiSquareResult? chi = null;
        double? variation = null;
        if (canonicalCount > 0)
        {
            chi = RevealStatistics.ChiSquare(observed, expected);
            variation = RevealStatistics.TotalVariation([.. observed.Select(v => v / canonicalCount)], [.. expected.Select(v => v / canonicalCount)]);
        }

        var distribution = objects.Select((o, i) => new ObjectShare(
            o,
            named.Count == 0 ? 0 : named.Count(r => r.Object == o) / (double)named.Count,
            games.Count == 0 ? 0 : games.Average(g => g.Scored[i]))).ToList();
        var questions = games.SelectMany(g => g.Questions).ToList();
        var committed = games.Where(g => g.Secret is not null).ToList();
        return new TwentyQuestionsConditionSummary(
            condition,
            games.Count,
            reveals.Count,
            named.Count,
            reveals.Count(r => r.Canonical),
            Mean(perGame.Select(c => (double)c.Count)),
            Mean(perGame.Where(c => c.Count > 0).Select(c => RevealStatistics.EntropyBitsOfCounts(c))),
            named.Count == 0 ? 0 : named.Count(r => r.Consistent == true) / (double)named.Count,
            chance,
            committed.Count == 0 ? null : Share(committed.SelectMany(g => g.Reveals.Where(r => r.Object is not null).Select(r => r.Object == g.Secret))),
            Mean(games.Select(g => (double)g.Questions.Count)),
            questions.Count == 0 ? 0 : questions.Count(q => q.Asked is not null && q.Yes is not null) / (double)questions.Count,
            Mean(games.Select(g => (double)g.ConsistentObjects.Count)),
            games.Count(g => g.ConsistentObjects.Count == 0),
            Mean(games.Select(g => g.Narrowing[^1].EntropyBits)),
            Mean(games.Select(g => g.Narrowing[^1].ConsistentMass)),
            committed.Count == 0 ? null : Mean(committed.Select(g => g.Narrowing[^1].SecretProbability ?? 0)),
            chi,
            variation,
            Mean(games.Select(g => (double)g.ForkPrefillTokens)),
            Mean(reveals.Select(r => (double)r.PrefillTokens)),
            distribution,
            Narrowing(condition, games));
    }

    /// <summary>Mean entropy, log2 of the consistent count and consistent mass after each number of questions, over the games that got that far.</summary>
    public static NarrowingCurve Narrowing(string condition, IReadOnlyList<TwentyQuestionsGameResult> games)
    {
        ArgumentNullException.ThrowIfNull(games);
        var longest = games.Count == 0 ? 0 : games.Max(g => g.Narrowing.Count);
        var points = new List<NarrowingPoint>();
        for (var q = 0; q < longest; q++)
        {
            var steps = games.Where(g => g.Narrowing.Count > q).Select(g => g.Narrowing[q]).ToList();
            var possible = steps.Where(s => s.Consistent > 0).ToList();
            points.Add(new NarrowingPoint(
                q,
                Mean(steps.Select(s => s.EntropyBits)),
                possible.Count == 0 ? double.NaN : possible.Average(s => Math.Log2(s.Consistent)),
                Mean(steps.Select(s => s.ConsistentMass))));
        }

        return new NarrowingCurve(condition, points);
    }

    private static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? 0 : list.Average();
    }

    private static double? Share(IEnumerable<bool> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? null : list.Count(v => v) / (double)list.Count;
    }
}
