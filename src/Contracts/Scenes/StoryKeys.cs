using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Contracts.Scenes;

/// <summary>
/// Keys of stories and their characters. A story is one replica of a scenario played scene after scene:
/// <c>{run id}/@{replica}</c>. A branch of a scene starts a story of its own, keyed by the branch scene's key (its
/// characters are copies made at the fork point). A character's grain key is <c>{story}/{character id}</c>; ids never
/// hold <c>/</c> or <c>@</c>, so no story character's key is a scene's or another's.
/// </summary>
public static class StoryKeys
{
    /// <summary>The story of replica <paramref name="replica"/> of run <paramref name="runId"/>.</summary>
    public static string Main(string runId, int replica) => $"{runId}/@{replica}";

    /// <summary>The grain key of character <paramref name="characterId"/> in <paramref name="story"/>.</summary>
    public static string Character(string story, string characterId) => $"{story}/{characterId}";
}

/// <summary>
/// What a character of a story brought into a scene from the scenes it played before (<see cref="MemoryCarry"/>).
/// </summary>
/// <param name="Lines">
/// Lines it witnessed earlier, each earlier scene headed by a narrator line with its setting and the whole followed by
/// one with this scene's: at negative indexes, so they come before the scene's own lines and never take their indexes.
/// </param>
/// <param name="Summary">Its summary of the earlier scenes (<see cref="MemoryCarry.Summary"/>), or null.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.CarriedMemory")]
public sealed record CarriedMemory(
    [property: Id(0)] IReadOnlyList<SceneLine> Lines,
    [property: Id(1)] string? Summary = null)
{
    /// <summary>Nothing brought: a first scene, or <see cref="MemoryCarry.None"/>.</summary>
    public static CarriedMemory Nothing { get; } = new([]);
}
