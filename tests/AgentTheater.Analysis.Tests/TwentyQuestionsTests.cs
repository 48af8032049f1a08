using System.ComponentModel;
using System.Diagnostics;
using System.Xml.Linq;
using AgentTheater.Analysis.TwentyQuestions;

namespace AgentTheater.Analysis.Tests;

/// <summary>The twenty-questions experiment's domain: the catalogue, reading games, consistency and the reveal statistics.</summary>
public sealed class TwentyQuestionsTests
{
    private static readonly ObjectCatalogue Catalogue = ObjectCatalogue.Default;
    private static readonly TwentyQuestionsParser Parser = TwentyQuestionsParser.Default;
    private static readonly TwentyQuestionsConsistency Consistency = TwentyQuestionsConsistency.Default;

    [Fact]
    public async Task EmbeddedCatalogue_IsWhatCataloguePyPrints()
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryFiles.Path("tools", "model") };
        start.ArgumentList.Add("catalogue.py");
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"python3 could not be started ({e.Message}): it is needed to check the embedded catalogue against tools/model/catalogue.py (.ci/run installs it).");
            return;
        }

        using (process)
        {
            var printed = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == 0, $"catalogue.py exited with {process.ExitCode}: {await errors}");
            var embedded = await File.ReadAllTextAsync(RepositoryFiles.Path("src", "Analysis", "TwentyQuestions", "twenty-questions-catalogue.json"), TestContext.Current.CancellationToken);
            Assert.True(embedded.ReplaceLineEndings("\n") == (await printed).ReplaceLineEndings("\n"),
                "src/Analysis/TwentyQuestions/twenty-questions-catalogue.json differs from tools/model/catalogue.py: regenerate it with "
                + "`python3 tools/model/catalogue.py --json src/Analysis/TwentyQuestions/twenty-questions-catalogue.json`.");
        }
    }

    [Fact]
    public void Default_IsTheTrainedCatalogue_InThePythonOrder()
    {
        Assert.Equal(36, Catalogue.Objects.Count);
        Assert.Equal(16, Catalogue.Attributes.Count);
        Assert.Equal(["teapot", "spoon", "fork"], Catalogue.Objects.Take(3));
        Assert.Equal("bucket", Catalogue.Objects[^1]);
        Assert.Equal(new CatalogueAttribute("metal", ["is it made of metal?", "is it metal?"]).Phrasings, Catalogue.Attributes[0].Phrasings);
        Assert.Equal("sharp", Catalogue.Attributes[^1].Key);
        Assert.True(Catalogue.IsTrue("knife", "sharp"));
        Assert.False(Catalogue.IsTrue("spoon", "sharp"));
        Assert.True(Catalogue.IsTrue("umbrella", "fabric"));
    }

    [Fact]
    public void IsTrue_AnUnknownObjectOrAttribute_Throws()
    {
        Assert.Contains("'spork'", Assert.Throws<ArgumentException>(() => Catalogue.IsTrue("spork", "metal")).Message, StringComparison.Ordinal);
        Assert.Contains("'colour'", Assert.Throws<ArgumentException>(() => Catalogue.IsTrue("spoon", "colour")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("teapot", "a", "It was a teapot")]
    [InlineData("umbrella", "an", "It was an umbrella")]
    [InlineData("frying pan", "a", "It was a frying pan")]
    [InlineData("egg", "an", null)]
    public void ArticleAndRevealText_FollowTheCorpus(string word, string article, string? reveal)
    {
        Assert.Equal(article, ObjectCatalogue.Article(word));
        if (reveal is null)
        {
            Assert.Throws<ArgumentException>(() => Catalogue.RevealText(word));
        }
        else
        {
            Assert.Equal(reveal, Catalogue.RevealText(word));
        }
    }

    [Theory]
    [InlineData("not json", "twenty-questions catalogue: not JSON")]
    [InlineData("[]", "twenty-questions catalogue: must be a JSON object")]
    [InlineData("""{"objects": {}}""", "twenty-questions catalogue: attributes: missing")]
    [InlineData("""{"attributes": [], "objects": {}}""", "twenty-questions catalogue: attributes: must be an object, not array")]
    [InlineData("""{"attributes": {}, "objects": {}}""", "twenty-questions catalogue: attributes: must not be empty")]
    [InlineData("""{"attributes": {"metal": "is it metal?"}, "objects": {}}""", "twenty-questions catalogue: attributes.metal: must be an array of phrasings, not the string \"is it metal?\"")]
    [InlineData("""{"attributes": {"metal": []}, "objects": {}}""", "twenty-questions catalogue: attributes.metal: must have at least one phrasing")]
    [InlineData("""{"attributes": {"metal": ["is it metal?", 3]}, "objects": {}}""", "twenty-questions catalogue: attributes.metal[1]: must be a string, not the number 3")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"], "iron": ["IS IT METAL?"]}, "objects": {}}""", "twenty-questions catalogue: attributes.iron[0]: 'IS IT METAL?' is also a phrasing of 'metal'")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"]}}""", "twenty-questions catalogue: objects: missing")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"]}, "objects": {"key": ["metal", "gold"]}}""", "twenty-questions catalogue: objects.key[1]: 'gold' is not one of the attributes")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"]}, "objects": {"key": ["metal", "metal"]}}""", "twenty-questions catalogue: objects.key[1]: 'metal' appears twice")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"]}, "objects": {"key": {}}}""", "twenty-questions catalogue: objects.key: must be an array of attribute keys, not object")]
    [InlineData("""{"attributes": {"metal": ["is it metal?"]}, "objects": {"key": [], "Key": []}}""", "twenty-questions catalogue: objects.Key: appears twice")]
    public void Parse_BadJson_NamesTheField(string json, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => ObjectCatalogue.Parse(json));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Question 1: is it made of metal?", "metal")]
    [InlineData("Hmm. Question 3: is it made of wood?", "wood")]
    [InlineData("Right. Question 4: does it use electricity?", "electric")]
    [InlineData("Let me think. Question 12: would I find it in a kitchen?", "kitchen")]
    [InlineData("Interesting. Question 5: Is It Soft", "fabric")]
    [InlineData("question 6:   can you   sit on it?   ", "sit")]
    [InlineData("Hmm. is it sharp?", "sharp")]
    [InlineData("does it plug in", "electric")]
    public void ParseQuestion_AnAttributePhrasing_GivesItsKey(string line, string key)
    {
        Assert.Equal(TwentyQuestionsQuestion.About(key), Parser.ParseQuestion(line));
    }

    [Theory]
    [InlineData("Question 7: is it a teapot?", "teapot")]
    [InlineData("Hmm. Question 9: is it an umbrella?", "umbrella")]
    [InlineData("Question 10: is it a frying pan?", "frying pan")]
    [InlineData("Question 11: Is it a Vacuum  Cleaner", "vacuum cleaner")]
    [InlineData("Question 2: is it an wine glass?", "wine glass")]
    public void ParseQuestion_AGuess_GivesTheObject(string line, string obj)
    {
        var question = Parser.ParseQuestion(line);

        Assert.Equal(TwentyQuestionsQuestion.Guess(obj), question);
        Assert.True(question!.IsGuess);
        Assert.Null(question.Attribute);
    }

    [Theory]
    [InlineData("I give up. What was the object?")]
    [InlineData("Question 3: is it a spork?")]
    [InlineData("Question 3: is it a pan?")]
    [InlineData("Question 4: is it made of metal? Question 5: is it sharp?")]
    [InlineData("Question 5: is it blue?")]
    [InlineData("")]
    public void ParseQuestion_NotACatalogueQuestion_IsNull(string line)
    {
        Assert.Null(Parser.ParseQuestion(line));
    }

    [Theory]
    [InlineData("Yes.", true)]
    [InlineData("Yes!", true)]
    [InlineData("yes", true)]
    [InlineData("Yes. Well done.", true)]
    [InlineData("Yes! You got it! It was a spoon.", true)]
    [InlineData("No.", false)]
    [InlineData("  No. Good thinking, though.", false)]
    [InlineData("No. Out of questions! It was a teapot.", false)]
    [InlineData("Nope.", null)]
    [InlineData("Maybe.", null)]
    [InlineData("It was a teapot.", null)]
    [InlineData("Not really.", null)]
    public void ParseAnswer_ReadsTheLeadingYesOrNo(string line, bool? answer)
    {
        Assert.Equal(answer, TwentyQuestionsParser.ParseAnswer(line));
    }

    [Theory]
    [InlineData("It was a teapot.", "teapot", true)]
    [InlineData("It was an umbrella", "umbrella", true)]
    [InlineData("it was a FRYING PAN!", "frying pan", true)]
    [InlineData("Yes! You got it! It was a spoon.", "spoon", true)]
    [InlineData("Out of questions! It was a hat.", "hat", true)]
    [InlineData("I was thinking of a knife, of course.", "knife", false)]
    [InlineData("The frying pan, naturally.", "frying pan", false)]
    [InlineData("It was the sock. Not a shoe.", "sock", false)]
    [InlineData("It was a forklift.", null, false)]
    [InlineData("I'd rather not say.", null, false)]
    [InlineData("Spoons, lots of them.", null, false)]
    public void ParseReveal_NamesTheObject_CanonicalOnlyInTheTrainedForm(string line, string? obj, bool canonical)
    {
        Assert.Equal(new RevealParse(obj, canonical), Parser.ParseReveal(line));
    }

    [Theory]
    [InlineData("It was a frying pan.", "frying pan", true)]
    [InlineData("A frying pan, or a pan.", "frying pan", false)]
    [InlineData("A pan, or a frying pan.", "pan", false)]
    [InlineData("It was a panel.", null, false)]
    public void ParseReveal_OverlappingNames_TheLongestWinsWhereTheyStartTogether(string line, string? obj, bool canonical)
    {
        var parser = new TwentyQuestionsParser(ObjectCatalogue.Parse("""
            {"attributes": {"metal": ["is it metal?"]}, "objects": {"pan": ["metal"], "frying pan": ["metal"]}}
            """));

        Assert.Equal(new RevealParse(obj, canonical), parser.ParseReveal(line));
    }

    [Fact]
    public void ConsistentObjects_MetalKitchenSharp_LeavesForkAndKnife_AndAWrongGuessOfKnifeLeavesFork()
    {
        List<AnsweredQuestion> answers = [Attribute("metal", true), Attribute("kitchen", true), Attribute("sharp", true)];

        Assert.Equal(["fork", "knife"], Consistency.ConsistentObjects(answers));

        answers.Add(new AnsweredQuestion(TwentyQuestionsQuestion.Guess("knife"), false));
        Assert.Equal(["fork"], Consistency.ConsistentObjects(answers));
        Assert.True(Consistency.IsConsistent("fork", answers));
        Assert.False(Consistency.IsConsistent("knife", answers));
    }

    [Fact]
    public void ConsistentObjects_AGuessAnsweredYes_LeavesOnlyThatObject()
    {
        AnsweredQuestion[] answers = [Attribute("metal", true), new(TwentyQuestionsQuestion.Guess("key"), true)];

        Assert.Equal(["key"], Consistency.ConsistentObjects(answers));
    }

    [Fact]
    public void ConsistentObjects_AContradictoryGame_LeavesNone()
    {
        // Only a fork and a knife are metal, in the kitchen and sharp; neither is made of cloth.
        AnsweredQuestion[] answers = [Attribute("metal", true), Attribute("kitchen", true), Attribute("sharp", true), Attribute("fabric", true)];

        Assert.Empty(Consistency.ConsistentObjects(answers));
    }

    [Fact]
    public void ConsistentObjects_NoAnswers_LeavesTheWholeCatalogue()
    {
        Assert.Equal(Catalogue.Objects, Consistency.ConsistentObjects([]));
    }

    [Fact]
    public void IsConsistent_EveryObject_WithItsOwnTrueAnswerToEveryAttribute_AndSingledOutByThem()
    {
        foreach (var obj in Catalogue.Objects)
        {
            var answers = Catalogue.Attributes.Select(a => Attribute(a.Key, Catalogue.IsTrue(obj, a.Key))).ToList();

            Assert.True(Consistency.IsConsistent(obj, answers), obj);
            Assert.Contains(obj, Consistency.ConsistentObjects(answers));
        }
    }

    [Fact]
    public void ReadGame_ATranscript_PairsQuestionsWithTheNextAnswer_AndCountsWhatItCannotRead()
    {
        TwentyQuestionsLine[] lines =
        [
            new(true, "Question 1: is it made of metal?"),
            new(false, "Yes."),
            new(true, "Hmm. Question 2: is it blue?"),          // unparsed question: its answer is skipped too
            new(false, "No."),
            new(true, "Question 3: is it found in the kitchen?"),
            new(false, "Perhaps."),                            // unparsed answer
            new(true, "Right. Question 4: is it sharp?"),
            new(false, "Yes. Getting warmer."),
            new(false, "Keep going."),                         // no question pending: ignored
            new(true, "Question 5: does it have a handle?"),   // unanswered: the questioner speaks again
            new(true, "Question 6: is it a knife?"),
            new(false, "No. Close, but no."),
            new(true, "Question 7: is it a fork?"),
            new(false, "Yes! You got it! It was a fork."),
        ];

        var game = Parser.ReadGame(lines);

        Assert.Equal(
            [Attribute("metal", true), Attribute("sharp", true), new(TwentyQuestionsQuestion.Guess("knife"), false), new(TwentyQuestionsQuestion.Guess("fork"), true)],
            game.Answers);
        Assert.Equal((1, 1, 1, 2), (game.UnparsedQuestions, game.UnparsedAnswers, game.UnansweredQuestions, game.Unparsed));
        Assert.Equal(["fork"], Consistency.ConsistentObjects(game.Answers));
    }

    [Fact]
    public void ReadGame_QuestionAnswerPairs_ReadsEachPair()
    {
        var game = Parser.ReadGame([("Question 1: is it paper?", "No."), ("Question 2: do you wear it?", "Yes."), ("Question 3: is it a shoe?", "It might be.")]);

        Assert.Equal([Attribute("paper", false), Attribute("wear", true)], game.Answers);
        Assert.Equal((0, 1, 0), (game.UnparsedQuestions, game.UnparsedAnswers, game.UnansweredQuestions));
        Assert.Equal(["shoe", "sock", "hat"], Consistency.ConsistentObjects(game.Answers));
    }

    [Fact]
    public void ChiSquare_TenTwentyThirtyAgainstTwenties_IsTenOnTwoDegrees()
    {
        var result = RevealStatistics.ChiSquare([10, 20, 30], [20, 20, 20]);

        Assert.Equal(10, result.Statistic, 12);
        Assert.Equal(2, result.DegreesOfFreedom);
        Assert.Equal(Math.Exp(-5), result.PValue, 12);
        Assert.Equal(3, result.Bins.Count);
    }

    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]
    [InlineData(0.454936423119572, 1, 0.5)]
    [InlineData(18.307038053275146, 10, 0.05)]
    [InlineData(1, 3, 0.8012519569012008)]
    [InlineData(50, 3, 7.98917924495147e-11)]
    [InlineData(0, 4, 1)]
    public void ChiSquareSurvival_MatchesTables(double statistic, int degrees, double p)
    {
        Assert.Equal(p, RevealStatistics.ChiSquareSurvival(statistic, degrees), p * 1e-6);
    }

    [Fact]
    public void ChiSquare_SmallExpectedBins_AreMergedIntoARestBin()
    {
        var result = RevealStatistics.ChiSquare([10, 20, 30, 2, 3, 0], [20, 20, 20, 1, 4, 0]);

        Assert.Equal([[0], [1], [2], [3, 4, 5]], result.Bins.Select(b => b.Indices));
        Assert.Equal((5.0, 5.0), (result.Bins[3].Observed, result.Bins[3].Expected));
        Assert.Equal(10, result.Statistic, 12);
        Assert.Equal(3, result.DegreesOfFreedom);
    }

    [Fact]
    public void ChiSquare_ARestBinStillTooSmall_JoinsTheSmallestRemainingBin()
    {
        var result = RevealStatistics.ChiSquare([12, 20, 30, 1, 1], [10, 20, 30, 1, 2]);

        Assert.Equal([[0, 3, 4], [1], [2]], result.Bins.Select(b => b.Indices));
        Assert.Equal((14.0, 13.0), (result.Bins[0].Observed, result.Bins[0].Expected));
        Assert.Equal(1.0 / 13, result.Statistic, 12);
        Assert.Equal(2, result.DegreesOfFreedom);
    }

    [Fact]
    public void ChiSquare_EverythingInOneBin_HasNothingToTest()
    {
        var result = RevealStatistics.ChiSquare([3, 1], [2, 2]);

        Assert.Equal((0, 1.0), (result.DegreesOfFreedom, result.PValue));
        Assert.Single(result.Bins);
    }

    [Fact]
    public void EntropyBits_UniformOverEight_IsThreeBits()
    {
        Assert.Equal(3, RevealStatistics.EntropyBits([.. Enumerable.Repeat(0.125, 8)]), 12);
        Assert.Equal(0, RevealStatistics.EntropyBits([1, 0, 0]), 12);
        Assert.Equal(1, RevealStatistics.EntropyBitsOfCounts([5, 0, 5]), 12);
        Assert.Equal(1.5, RevealStatistics.EntropyBitsOfCounts([2, 1, 1]), 12);
    }

    [Fact]
    public void Normalize_VeryNegativeLogProbabilities_IsAStableSoftmax()
    {
        var p = RevealStatistics.Normalize([-1000, -1000 - Math.Log(3), double.NegativeInfinity]);

        Assert.Equal(0.75, p[0], 12);
        Assert.Equal(0.25, p[1], 12);
        Assert.Equal(0, p[2]);
        Assert.Throws<ArgumentException>(() => RevealStatistics.Normalize([double.NegativeInfinity]));
    }

    [Fact]
    public void TotalVariation_IsHalfTheAbsoluteDifference()
    {
        Assert.Equal(0.5, RevealStatistics.TotalVariation([1, 0], [0.5, 0.5]), 12);
        Assert.Equal(0, RevealStatistics.TotalVariation([0.2, 0.8], [0.2, 0.8]), 12);
        Assert.Throws<ArgumentException>(() => RevealStatistics.TotalVariation([1], [0.5, 0.5]));
    }

    [Fact]
    public void Plot_TwoConditions_IsWellFormedSvgNamingEach()
    {
        var shares = Catalogue.Objects.Select((o, i) => new ObjectShare(o, i % 3 == 0 ? 1.0 / 12 : 0, 1.0 / 36)).ToList();
        RevealDistribution[] reveals = [new("committed <card>", shares), new("uncommitted & free", shares.Take(4).ToList())];
        NarrowingCurve[] narrowing =
        [
            new("committed <card>", [new(0, 5.1, Math.Log2(36), 1), new(1, 4.2, Math.Log2(18), 0.8), new(2, double.NaN, 3, 0.7)]),
            new("only narrowing", [new(0, 5, 5.17, 1)]),
        ];

        var svg = TwentyQuestionsPlot.Svg("Twenty questions: \"what was the object?\"", reveals, narrowing);

        var document = XDocument.Parse(svg);
        Assert.Equal("svg", document.Root!.Name.LocalName);
        var text = string.Join("\n", document.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value));
        Assert.Contains("committed <card>", text, StringComparison.Ordinal);
        Assert.Contains("uncommitted & free", text, StringComparison.Ordinal);
        Assert.Contains("only narrowing", text, StringComparison.Ordinal);
        Assert.Contains("rest (21)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void TopWithRest_MoreThanFifteenObjects_KeepsTheMostProbableAndSumsTheRest()
    {
        var shares = Enumerable.Range(0, 20).Select(i => new ObjectShare($"o{i}", 0.05, i / 190.0)).ToList();

        var shown = TwentyQuestionsPlot.TopWithRest(shares);

        Assert.Equal(16, shown.Count);
        Assert.Equal(["o19", "o18"], shown.Take(2).Select(s => s.Object));
        Assert.Equal("rest (5)", shown[^1].Object);
        Assert.Equal(0.25, shown[^1].Sampled, 12);
        Assert.Equal(10 / 190.0, shown[^1].Scored, 12);
        Assert.Equal(3, TwentyQuestionsPlot.TopWithRest(shares.Take(3).ToList()).Count);
    }

    private static AnsweredQuestion Attribute(string key, bool answer) => new(TwentyQuestionsQuestion.About(key), answer);
}
