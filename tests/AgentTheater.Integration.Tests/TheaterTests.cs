using System.Text;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Integration.Tests;

public sealed class TheaterTests(TheaterClusterFixture fixture)
{
    private const string Secret = "the ledger is under the third floorboard";

    private static readonly SamplingSettings Sampling = new(Temperature: 0.9f, Seed: 5, MaxTokensPerLine: 12);

    private static readonly PersonaCard Marta = new("innkeeper", "Marta", "the innkeeper", ["keep the peace"], [Secret], "warm and blunt");
    private static readonly PersonaCard Quill = new("clerk", "Quillon", "a tax clerk", ["find the ledger"], [], "dry, precise");
    private static readonly PersonaCard Bo = new("bard", "Bartholomew", "a travelling bard", ["earn a coin"], [], "sings his sentences");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scene_RoundRobin_SpeakersFollowThePresentOrder()
    {
        var transcript = await PlayAsync(Scene(TurnPolicy.RoundRobin, 6));

        var speakers = transcript.Where(l => l.Kind == LineKind.Character).Select(l => l.SpeakerId).ToList();
        Assert.Equal(["innkeeper", "clerk", "bard", "innkeeper", "clerk", "bard"], speakers);
        Assert.Equal(Enumerable.Range(0, transcript.Count), transcript.Select(l => l.Index));
    }

    [Fact]
    public async Task Scene_Addressed_TheCharacterNamedInTheLastLineSpeaksNext()
    {
        var scene = Scene(TurnPolicy.Addressed, 5) with
        {
            Interventions = [new InterventionDefinition(2, "User", "Bartholomew, sing us the news."), new InterventionDefinition(4, "User", "Quillon, your verdict?")],
        };

        var transcript = await PlayAsync(scene);

        Assert.Equal("bard", SpeakerAtTurn(transcript, 2));
        Assert.Equal("clerk", SpeakerAtTurn(transcript, 4));
    }

    [Fact]
    public async Task Scene_Director_PicksTheLikeliestNameCue_NeverTheLastSpeaker()
    {
        var transcript = await PlayAsync(Scene(TurnPolicy.Director, 4));

        var characterLines = transcript.Where(l => l.Kind == LineKind.Character).ToList();
        Assert.Equal(4, characterLines.Count);
        for (var i = 1; i < characterLines.Count; i++)
        {
            Assert.NotEqual(characterLines[i - 1].SpeakerId, characterLines[i].SpeakerId);
        }

        // The first choice, recomputed independently: score every name cue after the narration and compare them per
        // token (nobody has spoken and the narration names nobody, so the turn-taking prior is the same for all).
        var prompt = new StringBuilder("[Scene] ").Append(Scene(TurnPolicy.Director, 4).Setting).Append("\n\n");
        foreach (var line in transcript.TakeWhile(l => l.Kind != LineKind.Character))
        {
            DialoguePrompt.AppendLine(prompt, line);
        }

        var cast = new[] { Marta, Quill, Bo };
        var scores = await fixture.Client.GetGrain<IInferenceGrain>(0).Score([.. cast.Select(c => new ScoreCall(null, prompt.ToString(), c.Name + ":"))], Cancel);
        var expected = cast[Enumerable.Range(0, cast.Length).MaxBy(i => scores[i].LogProbability / scores[i].Tokens)];
        Assert.Equal(expected.Id, characterLines[0].SpeakerId);
    }

    [Fact]
    public async Task Scene_Interventions_LandAtTheirTurn_AndWhispersReachOnlyTheirTarget()
    {
        var scene = Scene(TurnPolicy.RoundRobin, 4) with
        {
            Interventions = [new InterventionDefinition(1, "User", "Everyone, drinks are free tonight."), new InterventionDefinition(3, "Stranger", "Psst. I know your secret.", To: "bard")],
        };

        var (key, transcript) = await PlayWithKeyAsync(scene);

        var free = Assert.Single(transcript, l => l.Kind == LineKind.Intervention && l.To is null);
        Assert.Equal(1, free.Turn);
        Assert.Equal(LineKind.Character, transcript[free.Index + 1].Kind);
        Assert.Equal(1, transcript[free.Index + 1].Turn);
        Assert.Equal(1, transcript.Take(free.Index).Count(l => l.Kind == LineKind.Character));

        var whisper = Assert.Single(transcript, l => l.To == "bard");
        Assert.Equal(3, whisper.Turn);
        Assert.Equal(3, transcript.Take(whisper.Index).Count(l => l.Kind == LineKind.Character));
        var bard = await Character(key, "bard").GetView();
        var innkeeper = await Character(key, "innkeeper").GetView();
        Assert.Contains(bard.Witnessed, l => l.Index == whisper.Index);
        Assert.DoesNotContain(innkeeper.Witnessed, l => l.Index == whisper.Index);
        Assert.Contains(free.Index, innkeeper.Witnessed.Select(l => l.Index));
        Assert.Contains("Psst. I know your secret.", bard.Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("Psst", innkeeper.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Character_PrivateKnowledge_StaysInItsOwnPrompt()
    {
        var (key, _) = await PlayWithKeyAsync(Scene(TurnPolicy.RoundRobin, 3));

        Assert.Contains(Secret, (await Character(key, "innkeeper").GetView()).Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, (await Character(key, "clerk").GetView()).Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, (await Character(key, "bard").GetView()).Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Character_State_SurvivesDeactivationAndSiloRestarts()
    {
        var (key, transcript) = await PlayWithKeyAsync(Scene(TurnPolicy.RoundRobin, 3));
        var clerk = Character(key, "clerk");
        var before = await clerk.GetView();
        Assert.Equal(transcript.Count, before.Witnessed.Count);

        await fixture.Cluster.DeactivateAsync(clerk);
        Assert.Equal(before.Prompt, (await clerk.GetView()).Prompt);

        foreach (var silo in fixture.Cluster.Silos.ToList())
        {
            await fixture.Cluster.RestartSiloAsync(silo);
        }

        await fixture.Cluster.WaitForLivenessToStabilizeAsync();
        var after = await fixture.Client.GetGrain<ICharacterGrain>($"{key}/clerk").GetView();
        Assert.Equal(before.Prompt, after.Prompt);
        Assert.Equal(before.Witnessed.Select(l => l.Text), after.Witnessed.Select(l => l.Text));
    }

    [Fact]
    public async Task Character_SecondTurn_PrefillsOnlyTheLinesSinceItsLastTurn()
    {
        var transcript = await PlayAsync(Scene(TurnPolicy.RoundRobin, 6));

        // Her second prompt is her first, her own line and the two lines since, and her name cue: the pool prefills at
        // most those (her own line again where its text tokenizes differently from the tokens she generated). Her
        // first turn is no yardstick: a fresh session may reuse the prefix an evicted sequence held for another scene.
        var marta = transcript.Where(l => l.SpeakerId == "innkeeper").ToList();
        Assert.Equal(2, marta.Count);
        var since = transcript.Where(l => l.Index >= marta[0].Index && l.Index < marta[1].Index).Select(DialoguePrompt.Line).ToList();
        var sinceTokens = (await fixture.Client.GetGrain<IInferenceGrain>(0).CountTokens([string.Concat(since) + "Marta:"]))[0];
        Assert.True(marta[1].PrefillTokens <= sinceTokens + 2, $"second turn prefilled {marta[1].PrefillTokens}, the lines since her last turn are {sinceTokens} tokens");
    }

    private static SceneDefinition Scene(TurnPolicy policy, int turns) => new(
        "common-room",
        "A rainy night in the Grey Goose inn.",
        ["innkeeper", "clerk", "bard"],
        policy,
        turns,
        [],
        ["The fire crackles as the last guests settle in."],
        []);

    private static string? SpeakerAtTurn(IReadOnlyList<SceneLine> transcript, int turn) =>
        transcript.Single(l => l.Kind == LineKind.Character && l.Turn == turn).SpeakerId;

    private ICharacterGrain Character(string sceneKey, string id) => fixture.Client.GetGrain<ICharacterGrain>($"{sceneKey}/{id}");

    private async Task<IReadOnlyList<SceneLine>> PlayAsync(SceneDefinition scene) => (await PlayWithKeyAsync(scene)).Transcript;

    private async Task<(string Key, IReadOnlyList<SceneLine> Transcript)> PlayWithKeyAsync(SceneDefinition scene)
    {
        var runId = $"test-{Guid.NewGuid():N}";
        var key = $"{runId}/{scene.Id}/0";
        var grain = fixture.Client.GetGrain<ISceneGrain>(key);
        await grain.Start(new SceneStart(runId, 0, scene, [Marta, Quill, Bo], Sampling));
        await foreach (var line in grain.Watch(0, Cancel).WithCancellation(Cancel))
        {
            _ = line;
        }

        var status = await grain.GetStatus();
        Assert.True(status.Phase == ScenePhase.Completed, $"scene ended {status.Phase}: {status.EndReason}");
        return (key, await grain.GetTranscript());
    }
}
