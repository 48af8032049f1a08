using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Cluster;

namespace AgentTheater.Client.Theater;

/// <summary>The figures of a finished run.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenario">Scenario name.</param>
/// <param name="Scenes">Scene replicas.</param>
/// <param name="Completed">Scenes that ended normally.</param>
/// <param name="Failed">Scenes that failed.</param>
/// <param name="Lines">Transcript lines in all.</param>
/// <param name="CharacterLines">Lines spoken by characters.</param>
/// <param name="Tokens">Generated tokens.</param>
/// <param name="PrefillTokens">Prompt tokens the pool prefilled for character lines.</param>
/// <param name="Characters">Character grains (scenes × present).</param>
/// <param name="WallSeconds">Wall time from start to the last scene's end.</param>
/// <param name="PeakWorkingSetMegabytes">Peak resident memory of this process.</param>
/// <param name="GenerationSeconds">Time character lines spent in the pool (queue and generation), summed over lines.</param>
/// <param name="Attribution">What role attribution found and cost; null when the run played without it.</param>
internal sealed record RunSummary(
    string RunId,
    string Scenario,
    int Scenes,
    int Completed,
    int Failed,
    int Lines,
    int CharacterLines,
    long Tokens,
    long PrefillTokens,
    int Characters,
    double WallSeconds,
    double PeakWorkingSetMegabytes,
    double GenerationSeconds = 0,
    AttributionSummary? Attribution = null)
{
    public double LinesPerSecond => CharacterLines / WallSeconds;

    public double TokensPerSecond => Tokens / WallSeconds;
}

/// <summary>Role attribution over a run, and its cost next to generation's.</summary>
/// <param name="AttributedLines">Character lines scored.</param>
/// <param name="FailedLines">Lines whose scoring failed.</param>
/// <param name="Takeovers">Takeovers detected.</param>
/// <param name="Recovered">Of those, how many recovered.</param>
/// <param name="ScoreCalls">Line scorings (lines × hypotheses).</param>
/// <param name="ScoredTokens">Line tokens scored over every hypothesis.</param>
/// <param name="PrefillTokens">Tokens the pool decoded for attribution (line scoring and trigger searches).</param>
/// <param name="Seconds">Wall time of the scoring calls (line scoring and trigger searches), summed over calls.</param>
/// <param name="TriggerSearches">Trigger searches.</param>
/// <param name="TokenOverhead">Attribution's decoded tokens over generation's (prefilled and generated).</param>
/// <param name="TimeOverhead">Attribution's scoring time over generation's time in the pool.</param>
internal sealed record AttributionSummary(
    int AttributedLines,
    int FailedLines,
    int Takeovers,
    int Recovered,
    long ScoreCalls,
    long ScoredTokens,
    long PrefillTokens,
    double Seconds,
    int TriggerSearches,
    double TokenOverhead,
    double TimeOverhead);

/// <summary>Starts a scenario run on a cluster, shows live progress, and writes every transcript when it ends.</summary>
internal static class ScenarioRunner
{
    public static async Task<RunSummary> RunAsync(IGrainFactory grains, ScenarioDefinition scenario, string runId, RunFolder folder, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var run = grains.GetGrain<IScenarioRunGrain>(runId);
        await Patiently(() => run.Start(scenario), cancellationToken);
        var progress = await Patiently(run.GetProgress, cancellationToken);
        while (!progress.Done)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            progress = await Patiently(run.GetProgress, cancellationToken);
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r  scenes {progress.Completed + progress.Failed:N0}/{progress.Scenes:N0} done ({progress.Failed} failed), lines {progress.LiveLines:N0}, tokens {progress.LiveTokens:N0}, {progress.LiveTokens / clock.Elapsed.TotalSeconds:N0} tok/s, {clock.Elapsed.TotalSeconds:N0} s   "));
        }

        var wall = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine();
        var keys = await Patiently(run.GetSceneKeys, cancellationToken);
        int lines = 0, characterLines = 0;
        long generated = 0, prefilled = 0;
        double generationMilliseconds = 0;
        var attributions = new List<SceneAttribution>(keys.Count);
        foreach (var chunk in keys.Chunk(64))
        {
            var scenes = await Task.WhenAll(chunk.Select(key => Patiently(async () =>
            {
                var scene = grains.GetGrain<ISceneGrain>(key);
                var attribution = await grains.GetGrain<ISceneAttributionGrain>(key).GetAttribution();
                return (Key: key, Status: await scene.GetStatus(), Lines: await scene.GetTranscript(), Attribution: attribution);
            },
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

        AttributionSummary? attributed = null;
        if (attributions.Any(a => a.Enabled))
        {
            folder.WriteAttribution(attributions);
            attributed = Summarize(attributions, generated + prefilled, generationMilliseconds);
        }

        var characters = scenario.Scenes.Sum(s => s.Present.Count) * scenario.Replicas;
        var summary = new RunSummary(
            runId,
            scenario.Name,
            progress.Scenes,
            progress.Completed,
            progress.Failed,
            lines,
            characterLines,
            generated,
            prefilled,
            characters,
            wall,
            Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
            generationMilliseconds / 1000,
            attributed);
        folder.WriteSummary(summary, Table(summary));
        return summary;
    }

    /// <summary>A call to the cluster that outlasts a silo failure (the grain comes back on another silo from storage).</summary>
    private static Task<T> Patiently<T>(Func<Task<T>> call, CancellationToken cancellationToken) =>
        ClusterRetry.RunAsync(call, attempts: 1, (e, _) => Console.Error.WriteLine($"\n  the cluster did not answer ({e.GetType().Name}); retrying"), cancellationToken);

    private static Task Patiently(Func<Task> call, CancellationToken cancellationToken) =>
        ClusterRetry.RunAsync(call, attempts: 1, (e, _) => Console.Error.WriteLine($"\n  the cluster did not answer ({e.GetType().Name}); retrying"), cancellationToken);

    public static string Table(RunSummary s)
    {
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

            | attributed lines | takeovers | recovered | hypothesis scorings | scoring tokens decoded | vs generation tokens | scoring s | generation s | vs generation time |
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|
            | {a.AttributedLines:N0} | {a.Takeovers:N0} | {a.Recovered:N0} | {a.ScoreCalls:N0} | {a.PrefillTokens:N0} | {a.TokenOverhead:P1} | {a.Seconds:N1} | {s.GenerationSeconds:N1} | {a.TimeOverhead:P1} |

            """);
    }

    /// <summary>A run id that sorts by time and says what ran: <c>tavern-20261125-101500-3f2a</c>.</summary>
    public static string NewRunId(string scenario)
    {
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
            generationMilliseconds == 0 ? 0 : milliseconds / generationMilliseconds);
    }
}
