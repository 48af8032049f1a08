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
        ArgumentException.ThrowIfNullOrEmpty(branchStory);
        var parts = branchStory.Split('/', 3);
        if (parts.Length != 3)
        {
            throw new ArgumentException($"'{branchStory}' is not a scene key ({{run}}/{{scene}}/{{replica}}).", nameof(branchStory));
        }

        return $"{parts[0]}/{sceneId}/{parts[2]}@{parts[1]}";
    }

    /// <summary>The scene id in a scene key <c>{run}/{scene id}/{replica}</c>.</summary>
    public static string SceneId(string sceneKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(sceneKey);
        var parts = sceneKey.Split('/');
        return parts.Length >= 3 ? parts[1] : sceneKey;
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
