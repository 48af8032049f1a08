using System.Diagnostics;
using AgentTheater.Analysis.TwentyQuestions;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Analysis.Tests;

/// <summary>The twenty-questions figures on hand-made games, and the experiment's cards against the training corpus's.</summary>
public sealed class TwentyQuestionsSummaryTests
{
    private static readonly ObjectCatalogue Catalogue = ObjectCatalogue.Default;

    [Fact]
    public void Summarize_HandMadeGames_CountsConsistencyChanceSecretAndChiSquare()
    {
        // Game 0: metal, kitchen, sharp = yes leaves fork and knife; the scored distribution is half on each.
        var fork = Game(0, null, [("metal", true), ("kitchen", true), ("sharp", true)], Split(("fork", 0.5), ("knife", 0.5)), "fork", "fork", "knife", "teapot");

        // Game 1 (committed to the teapot): kitchen = yes, metal = no; every reveal names the teapot, scored all on it.
        var teapot = Game(1, "teapot", [("kitchen", true), ("metal", false)], Split(("teapot", 1.0)), "teapot", "teapot", "teapot", null);

        var summary = TwentyQuestionsSummary.Summarize(Catalogue, "mixed", [fork, teapot]);

        Assert.Equal(8, summary.Reveals);
        Assert.Equal(7, summary.Named);
        Assert.Equal(6.0 / 7, summary.ConsistentShare, 12);

        // Chance: fork's game allows 2 of 36 objects for its 4 named reveals, teapot's allows mug, wine glass, plate, teapot and sponge... for 3.
        var teapotConsistent = TwentyQuestionsConsistency.Default.ConsistentObjects([new(TwentyQuestionsQuestion.About("kitchen"), true), new(TwentyQuestionsQuestion.About("metal"), false)]).Count;
        Assert.Equal(((4 * 2.0 / 36) + (3.0 * teapotConsistent / 36)) / 7, summary.ChanceConsistentShare, 12);
        Assert.Equal(1.0, summary.SecretShare);
        Assert.Equal(1.0, summary.MeanScoredSecretProbability);
        Assert.Equal((3 + 1) / 2.0, summary.MeanDistinctPerGame);

        // Observed fork 2, knife 1, teapot 4 (teapot in game 0 counts too); expected fork 2, knife 2, teapot 3.
        var chi = Assert.IsType<ChiSquareResult>(summary.ChiSquare);
        Assert.Equal(7, chi.Bins.Sum(b => b.Observed));
        Assert.Equal(7, chi.Bins.Sum(b => b.Expected), 9);
        Assert.Equal(0.5 * ((0 + 1 + 1) / 7.0), summary.TotalVariation!.Value, 9);
        Assert.Equal(4 / 7.0, summary.Distribution.Single(d => d.Object == "teapot").Sampled, 12);
        Assert.Equal(0.5, summary.Distribution.Single(d => d.Object == "teapot").Scored, 12);
    }

    [Fact]
    public void Narrowing_GamesOfDifferentLengths_AveragesOverThoseThatGotThatFar_AndSkipsContradictions()
    {
        var a = Game(0, null, [("metal", true)], Split(("spoon", 1.0)), "spoon");
        var b = Game(1, null, [("metal", true), ("metal", false)], Split(("spoon", 1.0)), "spoon");

        var curve = TwentyQuestionsSummary.Narrowing("c", [a, b]);

        Assert.Equal([0, 1, 2], curve.Points.Select(p => p.Questions));
        Assert.Equal(Math.Log2(36), curve.Points[0].MeanLog2Consistent, 12);
        var metal = Catalogue.Objects.Count(o => Catalogue.IsTrue(o, "metal"));
        Assert.Equal(Math.Log2(metal), curve.Points[1].MeanLog2Consistent, 12);

        // After "metal? no" nothing is left in game b: no log2 to average, but its (zero) consistent mass counts.
        Assert.True(double.IsNaN(curve.Points[2].MeanLog2Consistent));
        Assert.Equal(0, curve.Points[2].MeanConsistentMass);
    }

    [Fact]
    public void ExperimentCards_AreTheTrainingCorpusCards()
    {
        foreach (var secret in new[] { null, "umbrella", "teapot" })
        {
            var script = $"import random, corpus; q, a = corpus.twenty_cards(random.Random(0), 'Pip', 'Ada', {(secret is null ? "False" : "True")}, {(secret is null ? "None" : $"'{secret}'")}); "
                + "import sys; sys.stdout.write(q.card(['Pip', 'Ada'], 'S') + '\\0' + a.card(['Pip', 'Ada'], 'S'))";
            var cards = Python(script).Split('\0');
            Assert.Equal(cards[0] + "Pip:", Prompt(TwentyQuestionsExperiment.Questioner));
            Assert.Equal(cards[1] + "Ada:", Prompt(TwentyQuestionsExperiment.Answerer(secret)));
        }

        static string Prompt(PersonaCard card) => DialoguePrompt.Build(new CharacterCasting("s", card, "S", ["Pip", "Ada"], new SamplingSettings()), []);
    }

    private static double[] Split(params (string Object, double P)[] mass) =>
        [.. Catalogue.Objects.Select(o => mass.FirstOrDefault(m => m.Object == o).P)];

    private static TwentyQuestionsGameResult Game(int number, string? secret, (string Attribute, bool Yes)[] answers, double[] scored, params string?[] reveals)
    {
        var answered = new List<AnsweredQuestion>();
        var questions = new List<PlayedQuestion>();
        var narrowing = new List<NarrowingStep> { Step(0, Catalogue.Objects.Count) };
        foreach (var (attribute, yes) in answers)
        {
            answered.Add(new AnsweredQuestion(TwentyQuestionsQuestion.About(attribute), yes));
            var count = TwentyQuestionsConsistency.Default.ConsistentObjects(answered).Count;
            questions.Add(new PlayedQuestion($"is it {attribute}?", yes ? "Yes." : "No.", TwentyQuestionsQuestion.About(attribute), yes, count));
            narrowing.Add(Step(questions.Count, count));
        }

        var consistent = TwentyQuestionsConsistency.Default.ConsistentObjects(answered);
        return new TwentyQuestionsGameResult(
            "mixed",
            number,
            $"x/{number}/0",
            secret,
            questions,
            consistent,
            [.. reveals.Select((r, i) => new RevealSample(i, r is null ? "Hmm." : $"It was a {r}.", r, r is not null, r is null ? null : consistent.Contains(r), 12))],
            scored,
            narrowing,
            10,
            100);

        NarrowingStep Step(int q, int count) => new(
            q,
            count,
            RevealStatistics.EntropyBits(scored),
            count == 0 ? 0 : Catalogue.Objects.Select((o, i) => TwentyQuestionsConsistency.Default.IsConsistent(o, answered) ? scored[i] : 0).Sum(),
            secret is null ? null : scored[Catalogue.IndexOf(secret)]);
    }

    private static string Python(string script)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryFiles.Path("tools", "model") };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start: install python3 (.ci/run does).");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"python3 failed ({process.ExitCode}): {error}");
    }
}
