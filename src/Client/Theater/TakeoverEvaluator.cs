using System.Diagnostics;
using System.Globalization;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Attribution;

namespace AgentTheater.Client.Theater;

/// <summary>A labelled scene and the attribution the real scene attribution grain gave it.</summary>
internal sealed record EvaluatedScene(LabelledScene Scene, SceneAttribution Attribution);

/// <summary>
/// Runs labelled transcripts through the real attribution (<see cref="ISceneAttributionGrain.Attribute"/>, as a played
/// scene calls it), several scenes at once so the pool batches their scoring, with progress on stderr.
/// </summary>
internal static class TakeoverEvaluator
{
    /// <summary>Attributes every scene of <paramref name="set"/> under the run id <paramref name="runId"/>, at most <paramref name="parallel"/> at a time.</summary>
    public static async Task<IReadOnlyList<EvaluatedScene>> AttributeAsync(
        IGrainFactory grains, IReadOnlyList<LabelledScene> set, string runId, int parallel, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var total = set.Sum(s => CharacterLines(s));
        int scenes = 0, lines = 0;
        using var gate = new SemaphoreSlim(parallel);
        using var ticker = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            while (!ticker.IsCancellationRequested)
            {
                Report();
                await Task.Delay(TimeSpan.FromSeconds(1), ticker.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }, CancellationToken.None);
        try
        {
            var results = await Task.WhenAll(set.Select(async scene =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    var key = SceneKey(runId, scene);
                    var grain = grains.GetGrain<ISceneAttributionGrain>(key);
                    await grain.Attribute(scene.Scene with { RunId = runId }, scene.Transcript, cancellationToken);
                    var attribution = await grain.GetAttribution();
                    Interlocked.Increment(ref scenes);
                    Interlocked.Add(ref lines, CharacterLines(scene));
                    return new EvaluatedScene(scene, attribution);
                }
                finally
                {
                    gate.Release();
                }
            }));
            return results;
        }
        finally
        {
            await ticker.CancelAsync();
            await progress;
            Report();
            Console.Error.WriteLine();
        }

        void Report() => Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r  scenes {Volatile.Read(ref scenes):N0}/{set.Count:N0} attributed, lines {Volatile.Read(ref lines):N0}/{total:N0}, {clock.Elapsed.TotalSeconds:N0} s   "));
    }

    /// <summary>The grain key of a labelled scene: <c>{run id}/{scene id}</c> (its transcript file is named after the scene id).</summary>
    public static string SceneKey(string runId, LabelledScene scene) => $"{runId}/{scene.Id}";

    /// <summary>Writes each scene's transcript and all attribution records into <paramref name="folder"/>, as a run does.</summary>
    public static void WriteRun(RunFolder folder, string runId, IReadOnlyList<EvaluatedScene> scenes)
    {
        foreach (var evaluated in scenes)
        {
            var key = SceneKey(runId, evaluated.Scene);
            var transcript = evaluated.Scene.Transcript;
            var status = new SceneStatus(key, ScenePhase.Completed, CharacterLines(evaluated.Scene), transcript.Count, 0, "labelled transcript");
            folder.WriteScene(key, status, transcript);
        }

        folder.WriteAttribution([.. scenes.Select(s => s.Attribution)]);
    }

    private static int CharacterLines(LabelledScene scene) => scene.Transcript.Count(l => l.Kind == LineKind.Character);
}
