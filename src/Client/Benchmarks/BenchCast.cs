using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Client.Benchmarks;

/// <summary>
/// The cast and scene <c>bench scene</c> plays when no scenario is given: an inn on a winter night, the first N of a
/// fixed list of regulars, so the same N always gives the same cast.
/// </summary>
internal static class BenchCast
{
    /// <summary>Scene id of the generated scene.</summary>
    public const string SceneId = "long-night";

    private static readonly (string Name, string Role, string Goal, string Secret, string Style)[] Regulars =
    [
        ("Marta", "the innkeeper of the Grey Goose", "keep the peace and the fire going until the storm passes", "the cellar is almost out of ale", "warm, brisk, practical"),
        ("Tobias", "a travelling cloth merchant", "sell a bolt of blue silk before morning", "the silk is water-stained underneath", "smooth and flattering"),
        ("Ines", "the village healer", "find out who took the herbs from her satchel", "she owes the merchant money", "calm, precise, a little dry"),
        ("Bram", "a blacksmith with burnt hands", "win back the wager he lost last week", "he cannot read", "loud, blunt, short sentences"),
        ("Odile", "the town's archivist", "learn the story behind the old map on the wall", "she knows the map is a forgery", "careful and curious, full of questions"),
        ("Cyrus", "a retired soldier", "be left alone with his cider", "he deserted from his last campaign", "gruff, few words, sudden jokes"),
        ("Lena", "a young fiddler", "be asked to play", "she ran away from home", "cheerful and quick"),
        ("Anselm", "the parish priest", "collect for the new roof", "he gambles", "gentle, long-winded"),
        ("Perrine", "a ferrywoman", "learn whether the river road is open", "she saw someone fall in the river", "plain-spoken, watchful"),
        ("Dario", "a wandering storyteller", "hold the room's attention", "half his tales are his own life", "theatrical, fond of pauses"),
        ("Greta", "a farmer's widow", "sell her farm to the right buyer", "the well on the farm is dry", "shrewd, polite, hard to read"),
        ("Hugo", "the miller's apprentice", "impress the fiddler", "he broke the mill wheel", "nervous, eager, stumbles over words"),
    ];

    /// <summary>The most characters a generated cast has.</summary>
    public static int MaxCharacters => Regulars.Length;

    /// <summary>
    /// A scenario of one scene with the first <paramref name="characters"/> regulars present, played for
    /// <paramref name="turns"/> turns under <paramref name="policy"/> with the default sampling and <paramref name="seed"/>.
    /// </summary>
    public static ScenarioDefinition Scenario(int characters, int turns, TurnPolicy policy, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(characters, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(characters, MaxCharacters);
        var cast = Regulars.Take(characters)
            .Select(r => new PersonaCard(r.Name.ToLowerInvariant(), r.Name, r.Role, [r.Goal], [r.Secret], r.Style))
            .ToList();
        var scene = new SceneDefinition(
            SceneId,
            "The common room of the Grey Goose inn on a long winter night; snow has closed the roads and nobody can leave.",
            [.. cast.Select(c => c.Id)],
            policy,
            turns,
            [],
            ["The storm howls outside. The regulars gather by the fire, and the night is long."],
            []);
        return new ScenarioDefinition("bench-scene", cast, [scene], new SamplingSettings(Seed: seed));
    }
}
