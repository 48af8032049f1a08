using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenes.TurnPolicies;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Grains.Tests;

/// <summary>The turn policies on hand-made transcripts; the director's scoring is a fake pool that answers fixed log-probabilities.</summary>
public sealed class TurnPolicyTests
{
    private static readonly PersonaCard Marta = new("innkeeper", "Marta", "the innkeeper", [], [], "warm");
    private static readonly PersonaCard Quill = new("clerk", "Quillon", "a tax clerk", [], [], "dry");
    private static readonly PersonaCard Bo = new("bard", "Bartholomew", "a travelling bard", [], [], "sings");
    private static readonly PersonaCard[] Cast = [Marta, Quill, Bo];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(0, "innkeeper")]
    [InlineData(1, "clerk")]
    [InlineData(2, "bard")]
    [InlineData(3, "innkeeper")]
    [InlineData(7, "clerk")]
    public async Task RoundRobin_AnyTurn_IsTheCastInOrder(int turn, string speaker)
    {
        var chosen = await new RoundRobinTurnPolicy().ChooseSpeakerAsync(Context(turn, Line(LineKind.Character, Bo, "Marta, Quillon!")), Cancel);

        Assert.Equal(speaker, chosen.Id);
    }

    [Fact]
    public async Task Addressed_NoLineYet_IsRoundRobin()
    {
        var chosen = await Addressed(Context(4));

        Assert.Equal("clerk", chosen.Id);
    }

    [Theory]
    [InlineData("innkeeper", "What brings you here, bartholomew?", "bard")]
    [InlineData("innkeeper", "Bartholomew, sing for Quillon.", "bard")]
    [InlineData("clerk", "I, Quillon, ask Marta for the ledger.", "innkeeper")]
    [InlineData("clerk", "Quillon is my name, and taxes are my trade.", "bard")]
    public async Task Addressed_AfterACharacterLine_TheFirstOtherCharacterNamedSpeaks_ElseTheNextInOrder(string speaker, string text, string expected)
    {
        var chosen = await Addressed(Context(1, Line(LineKind.Character, Cast.Single(c => c.Id == speaker), text)));

        Assert.Equal(expected, chosen.Id);
    }

    [Theory]
    [InlineData(LineKind.Narrator)]
    [InlineData(LineKind.Intervention)]
    public async Task Addressed_NarratorOrUserNamingTheLastSpeaker_GivesItTheTurnAgain(LineKind kind)
    {
        var chosen = await Addressed(Context(
            2,
            Line(LineKind.Character, Marta, "Welcome."),
            Line(LineKind.Character, Quill, "The ledger, please."),
            Line(kind, null, "Everyone turns to Quillon.")));

        Assert.Equal("clerk", chosen.Id);
    }

    [Fact]
    public async Task Addressed_NobodyNamed_IsTheCharacterAfterTheLastSpeaker()
    {
        var chosen = await Addressed(Context(
            5,
            Line(LineKind.Character, Bo, "La la la."),
            Line(LineKind.Intervention, null, "The door creaks.")));

        Assert.Equal("innkeeper", chosen.Id);
    }

    [Fact]
    public async Task Addressed_NobodyNamedAfterOnlyNarration_IsTheFirstOfTheCast()
    {
        var chosen = await Addressed(Context(0, Line(LineKind.Narrator, null, "Rain on the windows.")));

        Assert.Equal("innkeeper", chosen.Id);
    }

    [Theory]
    [InlineData("Tell me about the road, stranger.", "clerk")]
    [InlineData("Bo, sing!", "bard")]
    [InlineData("Will you sing, bo?", "bard")]
    [InlineData("A boat, a bottle and Bo's harp.", "bard")]
    public async Task Addressed_NameMatch_IsAWholeWordInAnyCase(string text, string expected)
    {
        var shortBo = Bo with { Name = "Bo" };
        var context = Context(1, Line(LineKind.Character, Marta, text));
        context = context with { Start = context.Start with { Cast = [Marta, Quill, shortBo] } };

        var chosen = await Addressed(context);

        Assert.Equal(expected, chosen.Id);
    }

    [Fact]
    public async Task Addressed_ACharacterNobodyNames_SpeaksAtItsMaxSilence()
    {
        var pingPong = Turns(
            Line(LineKind.Character, Marta, "Quillon?"),
            Line(LineKind.Character, Quill, "Marta!"),
            Line(LineKind.Character, Marta, "Quillon?"));

        Assert.Equal("innkeeper", (await Addressed(WithMaxSilence(Context(2, [.. pingPong.Take(2)]), 3))).Id);
        Assert.Equal("bard", (await Addressed(WithMaxSilence(Context(3, pingPong), 3))).Id);
    }

    [Theory]
    [InlineData("Rain again.", "bard")]
    [InlineData("Marta, the ledger.", "innkeeper")]
    public void Director_NameCuePlusPrior_RecentSpeakerPenalised_AddressedBoosted(string text, string expected)
    {
        // Marta's cue is likelier, but she spoke a turn ago (-1.5 nats of 3 with three characters); named, she gains 2.
        var context = DirectorContext(2, Line(LineKind.Character, Marta, "Evening."), Line(LineKind.Character, Quill, text));

        var candidates = DirectorTurnPolicy.Candidates(context);

        Assert.Equal([0, 2], candidates);
        Assert.Equal(expected, Cast[DirectorTurnPolicy.Choose(context, candidates, [Cue(-1.0), Cue(-1.2)])].Id);
    }

    [Fact]
    public void Director_ScoresPerToken_ALongNameIsNotPenalisedForItsLength()
    {
        var context = DirectorContext(2, Line(LineKind.Character, Marta, "Evening."), Line(LineKind.Character, Quill, "Rain."));

        // Marta's one-token cue at -2 nats against Bartholomew's four tokens at -1 nat each: per token, he is likelier.
        Assert.Equal("bard", Cast[DirectorTurnPolicy.Choose(context, [0, 2], [Cue(-2.0), Cue(-4.0, tokens: 4)])].Id);
    }

    [Fact]
    public void Director_UserNamesTheLastSpeaker_ItIsACandidateAgain()
    {
        var context = DirectorContext(
            2,
            Line(LineKind.Character, Marta, "Evening."),
            Line(LineKind.Character, Quill, "The ledger, please."),
            Line(LineKind.Intervention, null, "Quillon, your verdict?") with { Turn = 2 });

        var candidates = DirectorTurnPolicy.Candidates(context);

        Assert.Equal([0, 1, 2], candidates);
        Assert.Equal("clerk", Cast[DirectorTurnPolicy.Choose(context, candidates, [Cue(-1.0), Cue(-0.5), Cue(-3.0)])].Id);
    }

    [Fact]
    public async Task Director_ACharacterAtItsMaxSilence_SpeaksWithoutScoring()
    {
        // The context's scoring throws: the overdue character is chosen before the model is asked.
        var context = WithMaxSilence(DirectorContext(2, Line(LineKind.Character, Marta, "Evening."), Line(LineKind.Character, Quill, "Marta?")), 2);

        var chosen = await new DirectorTurnPolicy().ChooseSpeakerAsync(context, Cancel);

        Assert.Equal("bard", chosen.Id);
    }

    [Fact]
    public void Director_Prompt_HoldsTheSettingAndARecentWindowOfPublicLines()
    {
        var lines = Enumerable.Range(0, 30).Select(i => Line(LineKind.Character, Cast[i % 3], $"Line {i}.")).ToList();
        lines.Insert(20, Line(LineKind.Intervention, null, "Psst, a whisper.") with { To = "bard" });

        var prompt = DirectorTurnPolicy.Prompt(DirectorContext(30, [.. lines]));

        // 30 public lines: the oldest 16 are dropped (two steps of 8), the last 14 kept.
        Assert.StartsWith("[Scene] A rainy night.\n\n", prompt.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("Line 15.", prompt, StringComparison.Ordinal);
        Assert.All(Enumerable.Range(16, 14), i => Assert.Contains($"Line {i}.", prompt, StringComparison.Ordinal));
        Assert.DoesNotContain("whisper", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTurnPolicies_EveryTurnPolicy_HasItsPolicy()
    {
        using var services = new ServiceCollection().AddTurnPolicies().BuildServiceProvider();
        var catalog = services.GetRequiredService<TurnPolicyCatalog>();

        Assert.All(Enum.GetValues<TurnPolicy>(), policy => Assert.Equal(policy, catalog.For(policy).Policy));
    }

    private static Task<PersonaCard> Addressed(TurnContext context) => new AddressedTurnPolicy().ChooseSpeakerAsync(context, Cancel);

    private static TurnContext WithMaxSilence(TurnContext context, int maxSilence) =>
        context with { Start = context.Start with { Scene = context.Start.Scene with { MaxSilence = maxSilence } } };

    private static ScoreReply Cue(double logProbability, int tokens = 1) => new(logProbability, tokens, 0);

    private static TurnContext DirectorContext(int turn, params SceneLine[] lines)
    {
        var context = Context(turn, Turns(lines));
        return context with { Start = context.Start with { Scene = context.Start.Scene with { Policy = TurnPolicy.Director } } };
    }

    /// <summary>The lines with each character line's turn counted as the scene counts it (an intervention keeps its own).</summary>
    private static SceneLine[] Turns(params SceneLine[] lines)
    {
        var turn = 0;
        return [.. lines.Select(l => l.Kind == LineKind.Character ? l with { Turn = turn++ } : l)];
    }

    private static TurnContext Context(int turn, params SceneLine[] lines) => new(
        "run/common-room/0",
        new SceneStart("run", 0, new SceneDefinition("common-room", "A rainy night.", ["innkeeper", "clerk", "bard"], TurnPolicy.Addressed, 10, [], [], []), Cast, new SamplingSettings()),
        [.. lines.Select((l, i) => l with { Index = i })],
        turn,
        (_, _) => throw new InvalidOperationException("These policies never ask the model."));

    private static SceneLine Line(LineKind kind, PersonaCard? speaker, string text) =>
        new(0, 0, kind, speaker?.Id, speaker?.Name ?? (kind == LineKind.Narrator ? "Narrator" : "User"), text);
}
