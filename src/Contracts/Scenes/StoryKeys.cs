using AgentTheater.Contracts.Scenarios;

namespace AgentTheater.Contracts.Scenes;

/// <summary>
/// Keys of stories and their characters. A story is one replica of a scenario played scene after scene:
/// <c>{run id}/@{replica}</c>. A branch of a scene starts a story of its own, keyed by the branch scene's key (its
/// characters are copies made at the fork point), whose later scenes are <see cref="Continuation"/>s. A character's grain
/// key is <c>{story}/{character id}</c>; ids never hold <c>/</c> or <c>@</c>, so no story character's key is a scene's or another's.
/// </summary>
public static class StoryKeys
{
    /// <summary>The story of replica <paramref name="replica"/> of run <paramref name="runId"/>.</summary>
    public static string Main(string runId, int replica) => $"{runId}/@{replica}";

    /// <summary>The grain key of character <paramref name="characterId"/> in <paramref name="story"/>.</summary>
    public static string Character(string story, string characterId) => $"{story}/{characterId}";

    /// <summary>
    /// The key of scene <paramref name="sceneId"/> in the story a branch started: the branch <c>{run}/{scene}/{replica}</c>
    /// gives <c>{run}/{scene id}/{replica}@{scene}</c> (the branch's replica part names its fork, so each branch's
    /// later scenes have keys of their own, under the same run and scene id as the story's own).
    /// </summary>
    public static string Continuation(string branchStory, string sceneId)
    {
        var (run, scene, replica) = SceneKeys.Parse(branchStory);
        return SceneKeys.Of(run, sceneId, $"{replica}@{scene}");
    }

    /// <summary>The scene id in a scene key <c>{run}/{scene id}/{replica}</c>.</summary>
    public static string SceneId(string sceneKey) => SceneKeys.Parse(sceneKey).SceneId;
}

/// <summary>
/// Scene keys: <c>{run}/{scene id}/{replica}</c>, where the replica part is a number, or a branch's
/// (<c>0~1.2</c>, <c>0~1.2@cellar</c>). Scene ids and replica parts never hold <c>/</c>; a run id may, so a key is
/// read from its end.
/// </summary>
public static class SceneKeys
{
    /// <summary>The key of scene <paramref name="sceneId"/>, replica part <paramref name="replica"/>, of run <paramref name="runId"/>.</summary>
    public static string Of(string runId, string sceneId, string replica) => $"{runId}/{sceneId}/{replica}";

    /// <summary>The parts of a scene key.</summary>
    /// <exception cref="ArgumentException">It has fewer than three parts.</exception>
    public static (string RunId, string SceneId, string Replica) Parse(string sceneKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(sceneKey);
        var replica = sceneKey.LastIndexOf('/');
        var scene = replica > 0 ? sceneKey.LastIndexOf('/', replica - 1) : -1;
        return scene > 0
            ? (sceneKey[..scene], sceneKey[(scene + 1)..replica], sceneKey[(replica + 1)..])
            : throw new ArgumentException($"'{sceneKey}' is not a scene key ({{run}}/{{scene}}/{{replica}}).", nameof(sceneKey));
    }
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
