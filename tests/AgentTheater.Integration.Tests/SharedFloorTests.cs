using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// Turn-taking on the real default model: the director shares the floor among a large cast. On the synthetic model a
/// short name's cue (fewer tokens) outscores a long one's by more than any prior of a few nats, so without max silence
/// Bartholomew and Ambrose never speak in this scene; the limit is what brings them in.
/// </summary>
public sealed class SharedFloorTests(TheaterClusterFixture fixture)
{
    private const int Turns = 40;

    /// <summary>The scene's max silence when it does not say: three times the six present.</summary>
    private const int DefaultMaxSilence = 18;

    private static readonly PersonaCard[] Cast =
    [
        new("innkeeper", "Marta", "the innkeeper", ["keep the peace"], [], "warm and blunt"),
        new("clerk", "Quillon", "a tax clerk", ["find the ledger"], [], "dry, precise"),
        new("bard", "Bartholomew", "a travelling bard", ["earn a coin"], [], "sings his sentences"),
        new("smuggler", "Wren", "a boatwoman", ["keep the cellar shut"], [], "teasing"),
        new("guard", "Pike", "a revenue sergeant", ["search the cellar"], [], "clipped"),
        new("traveller", "Ambrose", "a traveller", ["get a bed"], [], "nervous"),
    ];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scene_DirectorWithSixCharacters_EveryoneSpeaks_NobodySilentPastMaxSilence()
    {
        var runId = $"floor-{Guid.NewGuid():N}";
        var scene = new SceneDefinition(
            "common-room",
            "A rainy night in the Grey Goose inn.",
            [.. Cast.Select(c => c.Id)],
            TurnPolicy.Director,
            Turns,
            [],
            ["The fire crackles as the last guests settle in."],
            []);
        var grain = fixture.Client.GetGrain<ISceneGrain>($"{runId}/{scene.Id}/0");

        await grain.Start(new SceneStart(runId, 0, scene, Cast, new SamplingSettings(Temperature: 0.9f, Seed: 3, MaxTokensPerLine: 4)));
        await foreach (var line in grain.Watch(0, Cancel).WithCancellation(Cancel))
        {
            _ = line;
        }

        var status = await grain.GetStatus();
        Assert.True(status.Phase == ScenePhase.Completed, $"scene ended {status.Phase}: {status.EndReason}");
        var speakers = (await grain.GetTranscript()).Where(l => l.Kind == LineKind.Character).Select(l => l.SpeakerId).ToList();
        Assert.Equal(Turns, speakers.Count);
        foreach (var character in Cast)
        {
            // Silences between its lines, before its first and after its last, in character turns.
            int[] spoke = [-1, .. Enumerable.Range(0, Turns).Where(t => speakers[t] == character.Id), Turns];
            var longest = spoke.Zip(spoke.Skip(1), (a, b) => b - a - 1).Max();
            Assert.True(spoke.Length > 2, $"{character.Id} never spoke: {string.Join(" ", speakers)}");
            Assert.True(longest <= DefaultMaxSilence, $"{character.Id} was silent {longest} turns: {string.Join(" ", speakers)}");
        }
    }
}
