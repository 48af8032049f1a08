using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Cluster;

namespace AgentTheater.Web.Runs;

/// <summary>
/// Writes a finished run's folder from the cluster: every transcript, the attribution, the summary. The one writer
/// behind <c>agent-theater run</c> and runs started through the HTTP API, so both leave the same files.
/// </summary>
public static class RunRecord
{
    /// <summary>
    /// Reads every scene of <paramref name="runId"/> (transcript, status, attribution) and writes them with the summary
    /// into <paramref name="folder"/>; each read is retried through a cluster failure, <paramref name="retrying"/> told.
    /// </summary>
    public static async Task<RunSummary> WriteAsync(
        IGrainFactory grains,
        ScenarioDefinition scenario,
        string runId,
        RunFolder folder,
        RunProgress ended,
        double wallSeconds,
        Action<Exception, int> retrying,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(ended);
        var keys = await ClusterRetry.RunAsync(grains.GetGrain<IScenarioRunGrain>(runId).GetSceneKeys, attempts: 1, retrying, cancellationToken);
        int lines = 0, characterLines = 0;
        long generated = 0, prefilled = 0;
        double generationMilliseconds = 0;
        var attributions = new List<SceneAttribution>(keys.Count);
        foreach (var chunk in keys.Chunk(64))
        {
            var scenes = await Task.WhenAll(chunk.Select(key => ClusterRetry.RunAsync(
                async () =>
                {
                    var scene = grains.GetGrain<ISceneGrain>(key);
                    var attribution = await grains.GetGrain<ISceneAttributionGrain>(key).GetAttribution();
                    return (Key: key, Status: await scene.GetStatus(), Lines: await scene.GetTranscript(), Attribution: attribution);
                },
                attempts: 1,
                retrying,
                cancellationToken)));
            foreach (var (key, status, transcript, attribution) in scenes)
            {
                folder.WriteScene(key, status, transcript);
                lines += transcript.Count;
                var spoken = transcript.Where(l => l.Kind == LineKind.Character).ToList();
                characterLines += spoken.Count;
                generated += spoken.Sum(l => (long)l.Tokens);
                prefilled += spoken.Sum(l => (long)l.PrefillTokens);
                generationMilliseconds += spoken.Sum(l => l.QueueMilliseconds + l.GenerateMilliseconds);
                attributions.Add(attribution);
            }
        }

        // Each replica's story: its scenes in the order they started.
        var played = await ClusterRetry.RunAsync(grains.GetGrain<IScenarioRunGrain>(runId).GetPlayOrder, attempts: 1, retrying, cancellationToken);
        for (var replica = 0; replica < scenario.Replicas; replica++)
        {
            folder.WriteStory(replica, played);
        }

        AttributionSummary? attributed = null;
        if (attributions.Any(a => a.Enabled))
        {
            folder.WriteAttribution(attributions);
            attributed = Summarize(attributions, generated + prefilled, generationMilliseconds);
        }

        // One grain per character and replica: a character plays its whole story.
        var characters = scenario.Scenes.SelectMany(s => s.Present).Distinct(StringComparer.Ordinal).Count() * scenario.Replicas;
        var summary = new RunSummary(
            runId,
            scenario.Name,
            ended.Scenes,
            ended.Completed,
            ended.Failed,
            lines,
            characterLines,
            generated,
            prefilled,
            characters,
            wallSeconds,
            Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
            generationMilliseconds / 1000,
            attributed);
        folder.WriteSummary(summary, Table(summary));
        return summary;
    }

    /// <summary>
    /// Follows the run's pushed progress, telling <paramref name="onUpdate"/> each update, until every scene has ended.
    /// When the run grain's silo dies the watch breaks; it is retried through the failure (<see cref="ClusterRetry"/>,
    /// <paramref name="retrying"/> told) and starts again wherever the grain comes back.
    /// </summary>
    public static async Task<RunProgress> WatchUntilDoneAsync(
        IScenarioRunGrain run, Action<RunProgress> onUpdate, Action<Exception, int> retrying, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(onUpdate);
        while (true)
        {
            var last = await ClusterRetry.RunAsync(
                async () =>
                {
                    RunProgress? latest = null;
                    await foreach (var update in run.WatchProgress(cancellationToken).WithCancellation(cancellationToken))
                    {
                        latest = update;
                        onUpdate(update);
                    }

                    return latest;
                },
                attempts: 1,
                retrying,
                cancellationToken);
            if (last is { Done: true })
            {
                return last;
            }
        }
    }

    /// <summary>The summary as Markdown tables (<c>summary.md</c>, and what <c>run</c> prints).</summary>
    public static string Table(RunSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var table = string.Create(CultureInfo.InvariantCulture, $"""
            | run | scenario | scenes | completed | failed | characters | lines | tokens | wall s | lines/s | tokens/s | peak MB |
            |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
            | {s.RunId} | {s.Scenario} | {s.Scenes:N0} | {s.Completed:N0} | {s.Failed:N0} | {s.Characters:N0} | {s.CharacterLines:N0} | {s.Tokens:N0} | {s.WallSeconds:N1} | {s.LinesPerSecond:N1} | {s.TokensPerSecond:N0} | {s.PeakWorkingSetMegabytes:N0} |

            """);
        if (s.Attribution is not { } a)
        {
            return table;
        }

        return table + string.Create(CultureInfo.InvariantCulture, $"""

            | attributed lines | screened | takeovers | recovered | hypothesis scorings | scoring tokens decoded | vs generation tokens | scoring s | generation s | vs generation time |
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
            | {a.AttributedLines:N0} | {a.ScreenedLines:N0} | {a.Takeovers:N0} | {a.Recovered:N0} | {a.ScoreCalls:N0} | {a.PrefillTokens:N0} | {a.TokenOverhead:P1} | {a.Seconds:N1} | {s.GenerationSeconds:N1} | {a.TimeOverhead:P1} |

            """);
    }

    /// <summary>A run id that sorts by time and says what ran: <c>tavern-20261125-101500-3f2a</c>.</summary>
    public static string NewRunId(string scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var slug = new StringBuilder();
        foreach (var c in scenario.ToLowerInvariant())
        {
            slug.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        return string.Create(CultureInfo.InvariantCulture, $"{slug}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}");
    }

    private static AttributionSummary Summarize(IReadOnlyList<SceneAttribution> scenes, long generationTokens, double generationMilliseconds)
    {
        var costs = scenes.Select(s => s.Cost).ToList();
        var decoded = costs.Sum(c => c.PrefillTokens + c.TriggerPrefillTokens);
        var milliseconds = costs.Sum(c => c.Milliseconds + c.TriggerMilliseconds);
        var takeovers = scenes.SelectMany(s => s.Takeovers).ToList();
        return new AttributionSummary(
            scenes.Sum(s => s.Lines.Count(l => l.Verdict != LineVerdict.Failed)),
            scenes.Sum(s => s.Lines.Count(l => l.Verdict == LineVerdict.Failed)),
            takeovers.Count,
            takeovers.Count(t => t.RecoveredTurn is not null),
            costs.Sum(c => (long)c.ScoreCalls),
            costs.Sum(c => c.ScoredTokens),
            decoded,
            milliseconds / 1000,
            costs.Sum(c => c.TriggerSearches),
            generationTokens == 0 ? 0 : (double)decoded / generationTokens,
            generationMilliseconds == 0 ? 0 : milliseconds / generationMilliseconds,
            costs.Sum(c => c.ScreenedLines));
    }
}
