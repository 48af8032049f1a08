using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenes.TurnPolicies;

namespace AgentTheater.Grains.Tests;

/// <summary>Turn-taking as numbers: silences, who is overdue, the director's prior, and the director's prompt window.</summary>
public sealed class TurnTakingTests
{
    private static readonly TurnTaking Floor = new(MaxSilence: 5, RecencyPenalty: 4f, AddressedBoost: 2f);

    [Theory]
    [InlineData(null, 0, 0)]
    [InlineData(null, 7, 7)]
    [InlineData(6, 7, 0)]
    [InlineData(2, 7, 4)]
    public void Silence_TurnsOthersTookSinceTheLastLine_FromTheStartForOneWhoNeverSpoke(int? lastTurn, int turn, int silence) =>
        Assert.Equal(silence, TurnTaking.Silence(lastTurn, turn));

    [Fact]
    public void LastTurns_EachCharactersLastLineTurn_NullForOneWhoNeverSpoke()
    {
        PersonaCard[] cast = [Card("a"), Card("b"), Card("c")];
        SceneLine[] lines =
        [
            new(0, 0, LineKind.Narrator, null, "Narrator", "Dusk."),
            new(1, 0, LineKind.Character, "b", "B", "One."),
            new(2, 1, LineKind.Character, "a", "A", "Two."),
            new(3, 2, LineKind.Intervention, null, "User", "Three."),
            new(4, 2, LineKind.Character, "b", "B", "Four."),
        ];

        Assert.Equal([1, 2, null], TurnTaking.LastTurns(cast, lines));
    }

    [Fact]
    public void For_SceneGivesNothing_ThreeTimesTheCastAndTheDefaultWeights()
    {
        var scene = new SceneDefinition("s", "Here.", ["a", "b", "c", "d"], TurnPolicy.Director, 10, [], [], []);

        Assert.Equal(new TurnTaking(12, TurnTaking.DefaultRecencyPenalty, TurnTaking.DefaultAddressedBoost), TurnTaking.For(scene));
        Assert.Equal(new TurnTaking(2, 0f, 5.5f), TurnTaking.For(scene with { MaxSilence = 2, RecencyPenalty = 0f, AddressedBoost = 5.5f }));
    }

    [Fact]
    public void Overdue_EveryoneWithinTheLimitWithRoomToSpare_IsFree()
    {
        // Turn 6 of four characters, max silence 5: silences 1, 0, 3, 2.
        Assert.Null(Floor.Overdue([4, 5, 2, 3], 6));
    }

    [Fact]
    public void Overdue_ACharacterAtTheLimit_GetsTheTurn()
    {
        // Turn 8: silences 3, 0, 5 (the limit), 1.
        Assert.Equal(2, Floor.Overdue([4, 7, 2, 6], 8));
    }

    [Fact]
    public void Overdue_SeveralNeverSpoke_TheFirstSpeaksBeforeTheLimitSoTheLastStillMakesIt()
    {
        // Six characters, max silence 8: a and b took turns 0 to 4, c, d, e, f never spoke. At turn 5 (silence 5) the four
        // of them are all due by turn 8, four turns for four characters: waiting would leave one past the limit, so c
        // (the first in cast order) speaks now. A turn earlier there was a turn to spare.
        var floor = Floor with { MaxSilence = 8 };

        Assert.Equal(2, floor.Overdue([3, 4, null, null, null, null], 5));
        Assert.Null(floor.Overdue([2, 3, null, null, null, null], 4));
    }

    [Fact]
    public void Overdue_LongestSilentFirst_TiesInCastOrder()
    {
        var floor = Floor with { MaxSilence = 3 };

        Assert.Equal(1, floor.Overdue([5, 1, 4, 1], 6));
        Assert.Equal(0, (floor with { MaxSilence = 2 }).Overdue([null, null, null], 0));
    }

    [Fact]
    public void Overdue_MaxSilenceBelowTheCastSize_EveryTurnForced_RoundRobin()
    {
        var floor = Floor with { MaxSilence = 2 };
        var lastTurns = new int?[4];
        var speakers = new List<int>();
        for (var turn = 0; turn < 8; turn++)
        {
            var speaker = floor.Overdue(lastTurns, turn);
            Assert.NotNull(speaker);
            speakers.Add(speaker.Value);
            lastTurns[speaker.Value] = turn;
        }

        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], speakers);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(9)]
    [InlineData(18)]
    public void Overdue_AnAdversaryPickingTheSameTwoWheneverFree_NobodyIsEverSilentPastTheLimit(int maxSilence)
    {
        // The measured failure: the free choice always goes to the first two characters. Six characters, 200 turns.
        var floor = Floor with { MaxSilence = maxSilence };
        var lastTurns = new int?[6];
        var longest = new int[6];
        for (var turn = 0; turn < 200; turn++)
        {
            for (var i = 0; i < 6; i++)
            {
                longest[i] = Math.Max(longest[i], TurnTaking.Silence(lastTurns[i], turn));
            }

            var speaker = floor.Overdue(lastTurns, turn) ?? (lastTurns[0] == turn - 1 ? 1 : 0);
            lastTurns[speaker] = turn;
        }

        Assert.All(longest, silence => Assert.InRange(silence, 0, maxSilence));
    }

    [Theory]
    [InlineData(null, 9, 4, false, 4.0 * 6 / 3)]
    [InlineData(null, 9, 4, true, 2.0 + (4.0 * 6 / 3))]
    [InlineData(8, 9, 4, false, -4.0)]
    [InlineData(7, 9, 4, false, -4.0 * 2 / 3)]
    [InlineData(6, 9, 4, false, -4.0 / 3)]
    [InlineData(5, 9, 4, false, 0.0)]
    [InlineData(1, 9, 4, false, 4.0 * 4 / 3)]
    [InlineData(7, 9, 4, true, 2.0 - (4.0 * 2 / 3))]
    [InlineData(8, 9, 2, false, -4.0)]
    [InlineData(7, 9, 2, false, 0.0)]
    [InlineData(5, 9, 2, false, 4.0 * 2)]
    public void Prior_LinearInSilence_PenaltyForRecentSpeakers_BoostPastTheFairShare_AndWhenAddressed(int? lastTurn, int turn, int castSize, bool addressed, double prior) =>
        Assert.Equal(prior, Floor.Prior(lastTurn, turn, castSize, addressed), 1e-9);

    [Fact]
    public void ScaleToModelWeight_LikeliestAtZero_AWideSpreadCompressedToTheWeight()
    {
        Assert.Equal([0.0, -TurnTaking.ModelWeight, -TurnTaking.ModelWeight / 2], TurnTaking.ScaleToModelWeight([-1.0, -41.0, -21.0]));
        Assert.Equal([0.0, -1.0], TurnTaking.ScaleToModelWeight([-1.0, -2.0]));
        Assert.Equal([0.0, 0.0], TurnTaking.ScaleToModelWeight([-2.0, -2.0]));
        Assert.Empty(TurnTaking.ScaleToModelWeight([]));
    }

    [Fact]
    public void Likeliest_AddsThePriorToTheLogProbability_FirstOfEquals()
    {
        Assert.Equal(0, TurnTaking.Likeliest([-1.0, -2.0, -3.0], [0.0, 0.0, 0.0]));
        Assert.Equal(1, TurnTaking.Likeliest([-1.0, -2.0, -3.0], [-4.0, 0.0, 0.0]));
        Assert.Equal(2, TurnTaking.Likeliest([-1.0, -2.0, -3.0], [-4.0, 0.0, 2.5]));
        Assert.Equal(1, TurnTaking.Likeliest([-1.0, -1.5, -1.5], [-0.6, 0.0, 0.0]));
        Assert.Throws<ArgumentException>(() => TurnTaking.Likeliest([-1.0], []));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(16, 0)]
    [InlineData(17, 8)]
    [InlineData(24, 8)]
    [InlineData(25, 16)]
    [InlineData(32, 16)]
    [InlineData(1000, 984)]
    public void ChunkedWindow_Start_HoldsAtMostSixteen_DroppingEightAtOnce(int count, int start) =>
        Assert.Equal(start, ChunkedWindow.Start(count, maxItems: 16, step: 8));

    [Fact]
    public void ChunkedWindow_Start_OnlyMovesEveryStepLines()
    {
        var starts = Enumerable.Range(0, 200).Select(n => ChunkedWindow.Start(n, 16, 8)).ToList();

        Assert.All(starts, s => Assert.Equal(0, s % 8));
        Assert.All(Enumerable.Range(0, 200), n => Assert.InRange(n - starts[n], Math.Min(n, 9), 16));
        Assert.Equal(24, starts.Distinct().Count());
    }

    [Theory]
    [InlineData("Bo, a word.", "Bo", 0)]
    [InlineData("What about it, bo?", "Bo", 15)]
    [InlineData("Tell me about Bob and the boat.", "Bo", -1)]
    [InlineData("Bo's harp, about time: BO!", "Bo", 0)]
    [InlineData("Robo, about robots.", "Bo", -1)]
    [InlineData("Ask Old Tom.", "old tom", 4)]
    [InlineData("Old Tomas.", "Old Tom", -1)]
    [InlineData("", "Bo", -1)]
    public void NameMention_IndexIn_WholeWordAnyCase(string text, string name, int index) =>
        Assert.Equal(index, NameMention.IndexIn(text, name));

    private static PersonaCard Card(string id) => new(id, id.ToUpperInvariant(), "someone", [], [], "plain");
}
