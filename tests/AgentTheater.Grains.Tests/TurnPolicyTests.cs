using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenes.TurnPolicies;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Grains.Tests;

/// <summary>The turn policies that need no model, on hand-made transcripts.</summary>
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

    [Fact]
    public void AddTurnPolicies_EveryTurnPolicy_HasItsPolicy()
    {
        using var services = new ServiceCollection().AddTurnPolicies().BuildServiceProvider();
        var catalog = services.GetRequiredService<TurnPolicyCatalog>();

        Assert.All(Enum.GetValues<TurnPolicy>(), policy => Assert.Equal(policy, catalog.For(policy).Policy));
    }

    private static Task<PersonaCard> Addressed(TurnContext context) => new AddressedTurnPolicy().ChooseSpeakerAsync(context, Cancel);

    private static TurnContext Context(int turn, params SceneLine[] lines) => new(
        "run/common-room/0",
        new SceneStart("run", 0, new SceneDefinition("common-room", "A rainy night.", ["innkeeper", "clerk", "bard"], TurnPolicy.Addressed, 10, [], [], []), Cast, new SamplingSettings()),
        [.. lines.Select((l, i) => l with { Index = i })],
        turn,
        (_, _) => throw new InvalidOperationException("These policies never ask the model."));

    private static SceneLine Line(LineKind kind, PersonaCard? speaker, string text) =>
        new(0, 0, kind, speaker?.Id, speaker?.Name ?? (kind == LineKind.Narrator ? "Narrator" : "User"), text);
}
