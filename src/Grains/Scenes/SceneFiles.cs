namespace AgentTheater.Grains.Scenes;

/// <summary>How a run's per-scene files are named.</summary>
public static class SceneFiles
{
    /// <summary>
    /// The name (without extension) of a scene's transcript files: its grain key after the run id, parts joined by
    /// <c>-</c> (<c>run/common-room/0</c> is <c>common-room-0</c>, a branch <c>run/game/0~0.1</c> is <c>game-0~0.1</c>).
    /// </summary>
    public static string Name(string sceneKey)
    {
        ArgumentNullException.ThrowIfNull(sceneKey);
        return string.Join('-', sceneKey.Split('/').Skip(1));
    }
}
