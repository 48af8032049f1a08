using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

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
    double PeakWorkingSetMegabytes)
{
    public double LinesPerSecond => CharacterLines / WallSeconds;

    public double TokensPerSecond => Tokens / WallSeconds;
}

/// <summary>Starts a scenario run on a cluster, shows live progress, and writes every transcript when it ends.</summary>
internal static class ScenarioRunner
{
    public static async Task<RunSummary> RunAsync(IGrainFactory grains, ScenarioDefinition scenario, string runId, RunFolder folder, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var run = grains.GetGrain<IScenarioRunGrain>(runId);
        await run.Start(scenario);
        var progress = await run.GetProgress();
        while (!progress.Done)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            progress = await run.GetProgress();
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r  scenes {progress.Completed + progress.Failed:N0}/{progress.Scenes:N0} done ({progress.Failed} failed), lines {progress.LiveLines:N0}, tokens {progress.LiveTokens:N0}, {progress.LiveTokens / clock.Elapsed.TotalSeconds:N0} tok/s, {clock.Elapsed.TotalSeconds:N0} s   "));
        }

        var wall = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine();
        var keys = await run.GetSceneKeys();
        int lines = 0, characterLines = 0;
        long generated = 0, prefilled = 0;
        foreach (var chunk in keys.Chunk(64))
        {
            var scenes = await Task.WhenAll(chunk.Select(async key =>
            {
                var scene = grains.GetGrain<ISceneGrain>(key);
                return (Key: key, Status: await scene.GetStatus(), Lines: await scene.GetTranscript());
            }));
            foreach (var (key, status, transcript) in scenes)
            {
                folder.WriteScene(key, status, transcript);
                lines += transcript.Count;
                characterLines += transcript.Count(l => l.Kind == LineKind.Character);
                generated += transcript.Sum(l => (long)l.Tokens);
                prefilled += transcript.Sum(l => (long)l.PrefillTokens);
            }
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
            Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0));
        folder.WriteSummary(summary, Table(summary));
        return summary;
    }

    public static string Table(RunSummary s) => string.Create(CultureInfo.InvariantCulture, $"""
        | run | scenario | scenes | completed | failed | characters | lines | tokens | wall s | lines/s | tokens/s | peak MB |
        |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
        | {s.RunId} | {s.Scenario} | {s.Scenes:N0} | {s.Completed:N0} | {s.Failed:N0} | {s.Characters:N0} | {s.CharacterLines:N0} | {s.Tokens:N0} | {s.WallSeconds:N1} | {s.LinesPerSecond:N1} | {s.TokensPerSecond:N0} | {s.PeakWorkingSetMegabytes:N0} |

        """);

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
}
