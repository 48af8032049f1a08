using AgentTheater.Client.Hosting;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Runs;

/// <summary>Follows scenes as they play, through the lines each scene pushes (<see cref="ISceneGrain.Watch"/>).</summary>
internal static class SceneWatcher
{
    /// <summary>
    /// Follows every scene of <paramref name="keys"/> from line <paramref name="fromIndex"/> until it ends, calling
    /// <paramref name="spoken"/> for each line and <paramref name="ended"/> when a scene ends; returns their final
    /// statuses in order. A watch broken by a silo failure starts again after the last line it saw.
    /// </summary>
    public static async Task<SceneStatus[]> WaitAsync(
        IGrainFactory grains, IReadOnlyList<string> keys, int fromIndex, Action<SceneLine> spoken, Action<SceneStatus> ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(keys);
        return await Task.WhenAll(keys.Select(async key =>
        {
            var scene = grains.GetGrain<ISceneGrain>(key);
            var next = fromIndex;
            var status = await Patiently.CallAsync(
                async () =>
                {
                    await foreach (var line in scene.Watch(next, cancellationToken).WithCancellation(cancellationToken))
                    {
                        next = line.Index + 1;
                        spoken(line);
                    }

                    return await scene.GetStatus();
                },
                cancellationToken);
            ended(status);
            return status;
        }));
    }
}
