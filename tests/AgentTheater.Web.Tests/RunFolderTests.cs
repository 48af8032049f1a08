using System.Text.Json;
using AgentTheater.Web.Runs;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Web.Tests;

/// <summary>A run's folder: what run, fork and takeovers write there and read back.</summary>
public sealed class RunFolderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void WriteScene_ThenReadScenes_GivesTheLinesBackUnderTheScenesFileName()
    {
        var folder = new RunFolder(_directory.File("tavern-20261202-101500-3f2a"));
        SceneLine[] lines =
        [
            new(0, 0, LineKind.Narrator, null, "Narrator", "The door bangs open."),
            new(1, 0, LineKind.Intervention, null, "User", "Marta, the cellar?", "innkeeper"),
            new(2, 0, LineKind.Character, "innkeeper", "Marta", "Nothing down there.", Tokens: 5, PrefillTokens: 40),
        ];

        folder.WriteScene("tavern-20261202-101500-3f2a/common-room/0", new SceneStatus("k", ScenePhase.Completed, 1, 3, 5, "max turns (1)"), lines);

        var (name, read) = Assert.Single(folder.ReadScenes());
        Assert.Equal("common-room-0", name);
        Assert.Equal(lines, read);
        Assert.Equal("tavern-20261202-101500-3f2a", folder.RunId);
        Assert.True(File.Exists(Path.Combine(folder.ScenesPath, "common-room-0.md")));
        Assert.Empty(Directory.GetFiles(folder.ScenesPath, "*.tmp"));
    }

    [Fact]
    public void WriteStory_ScenesOfAReplica_TellsThemInTheOrderTheyStarted()
    {
        var folder = new RunFolder(_directory.File("story-1"));
        var start = new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
        foreach (var (scene, text) in new[] { ("cellar", "Mind the stairs."), ("common-room", "Evening, love."), ("dawn", "Morning.") })
        {
            folder.WriteScene($"story-1/{scene}/0", new SceneStatus($"story-1/{scene}/0", ScenePhase.Completed, 1, 1, 3, "max turns (1)"), [new(0, 0, LineKind.Character, "innkeeper", "Marta", text)]);
        }

        ScenePlay[] played =
        [
            new("story-1/common-room/0", "common-room", 0, start, start.AddSeconds(1), new SceneStatus("story-1/common-room/0", ScenePhase.Completed, 1, 1, 3, "max turns (1)")),
            new("story-1/common-room/1", "common-room", 1, start),
            new("story-1/cellar/0", "cellar", 0, start.AddSeconds(1), start.AddSeconds(2), new SceneStatus("story-1/cellar/0", ScenePhase.Failed, 1, 1, 3, "boom")),
            new("story-1/dawn/0", "dawn", 0, start.AddSeconds(2)),
        ];

        folder.WriteStory(0, played);

        Assert.Equal(
            """
            # story-1, replica 0

            ## 1. common-room

            Completed: max turns (1); 1 turns, 3 tokens.

            0. **Marta**: Evening, love.

            ## 2. cellar

            Failed: boom; 1 turns, 3 tokens.

            0. **Marta**: Mind the stairs.

            ## 3. dawn

            0. **Marta**: Morning.

            """.ReplaceLineEndings("\n"),
            File.ReadAllText(Path.Combine(folder.StoriesPath, "replica-0.md")));
    }

    [Fact]
    public void WriteAttribution_NoTakeovers_WritesAnEmptyTakeoversFile()
    {
        var folder = new RunFolder(_directory.Path);

        folder.WriteAttribution([]);

        Assert.Empty(folder.ReadTakeovers());
        Assert.Equal([], folder.ReadAttribution() ?? throw new InvalidOperationException("no attribution file"));
    }

    [Fact]
    public void ReadRunInfo_WhatWriteRunInfoWrote_RoundTrips()
    {
        var folder = new RunFolder(_directory.Path);
        var info = new RunInfo("tavern-1", "/scenarios/tavern.yaml", "/models/m.gguf", null);

        folder.WriteRunInfo(info);

        Assert.Equal(info, folder.ReadRunInfo());
        using var json = JsonDocument.Parse(File.ReadAllText(_directory.File(RunFolder.RunInfoFile)));
        Assert.Equal("tavern-1", json.RootElement.GetProperty("runId").GetString());
    }

    [Fact]
    public void ReadRunInfo_NotJson_ThrowsNamingTheFile()
    {
        File.WriteAllText(_directory.File(RunFolder.RunInfoFile), "{ not json");

        var error = Assert.Throws<InvalidDataException>(() => new RunFolder(_directory.Path).ReadRunInfo());

        Assert.StartsWith(_directory.File(RunFolder.RunInfoFile), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadTakeovers_BadLine_ThrowsNamingFileAndLine()
    {
        var folder = new RunFolder(_directory.Path);
        File.WriteAllText(folder.TakeoversPath, "\n[1, 2]\n");

        var error = Assert.Throws<InvalidDataException>(folder.ReadTakeovers);

        Assert.StartsWith($"{folder.TakeoversPath}:2:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingFolder_ThrowsNamingIt()
    {
        var missing = _directory.File("no-such-run");

        var error = Assert.Throws<DirectoryNotFoundException>(() => RunFolder.Open(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAttribution_RunWithoutAttribution_IsNull()
    {
        Assert.Null(new RunFolder(_directory.Path).ReadAttribution());
    }
}
