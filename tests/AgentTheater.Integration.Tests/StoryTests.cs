using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// Characters through a story (<see cref="StoryKeys"/>): one grain per character and replica that keeps what it
/// witnessed from scene to scene, on the two-silo cluster with the real pool.
/// </summary>
public sealed class StoryTests(TheaterClusterFixture fixture)
{
    private const string Secret = "The password is BLUEBELL.";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>
    /// Three scenes: the hall (all three; the secret is whispered to the keeper), the yard (without the keeper), the
    /// cellar (all three again). By the default rule the yard comes after the hall and the cellar after the yard.
    /// </summary>
    private static ScenarioDefinition Story(string carry) => ScenarioFile.Parse($$"""
        name: whispered
        memory: {carry: {{carry}}}
        sampling: {seed: 5, max_tokens_per_line: 5}
        characters:
          - {id: keeper, name: Marta, role: the innkeeper}
          - {id: guest, name: Wren, role: a boatwoman}
          - {id: porter, name: Bo, role: the porter}
        scenes:
          - id: hall
            setting: The common room at night.
            present: [keeper, guest, porter]
            max_turns: 4
            interventions:
              - {turn: 1, speaker: Stranger, text: "{{Secret}}", to: keeper}
          - id: yard
            setting: The stable yard in the rain.
            present: [guest, porter]
            max_turns: 3
          - id: cellar
            setting: The cellar by lantern light.
            present: [keeper, guest, porter]
            max_turns: 4
        """, "story.yaml");

    [Fact]
    public async Task Run_FactWhisperedInTheFirstScene_IsInThatCharactersPromptInTheThirdAndInNoOneElses()
    {
        var (runId, played) = await PlayAsync(Story("lines"));

        // The acts: the yard after the hall, the cellar after the yard.
        var scenes = played.ToDictionary(p => p.SceneId);
        Assert.Equal(["hall", "yard", "cellar"], played.OrderBy(p => p.StartedAt).Select(p => p.SceneId));
        Assert.True(scenes["yard"].StartedAt >= scenes["hall"].EndedAt);
        Assert.True(scenes["cellar"].StartedAt >= scenes["yard"].EndedAt);
        Assert.All(played, p => Assert.Equal(ScenePhase.Completed, p.Ended?.Phase));

        // One grain per character through the story: the keeper played the hall before the cellar, the others the yard too.
        var cellar = scenes["cellar"].SceneKey;
        var keeper = await CharacterAsync(runId, "keeper").GetView(cellar);
        var guest = await CharacterAsync(runId, "guest").GetView(cellar);
        var porter = await CharacterAsync(runId, "porter").GetView(cellar);
        Assert.Equal([scenes["hall"].SceneKey], keeper.Played);
        Assert.Equal([scenes["hall"].SceneKey, scenes["yard"].SceneKey], guest.Played);
        Assert.Equal(guest.Played, porter.Played);

        // The whisper of scene 1 is in the keeper's prompt in scene 3, among the lines it brought, and in no one else's.
        Assert.Contains(Secret, keeper.Prompt, StringComparison.Ordinal);
        Assert.Contains(keeper.Carried!.Lines, l => l.Text == Secret && l.To == "keeper" && l.Index < 0);
        foreach (var other in new[] { guest, porter })
        {
            Assert.DoesNotContain(Secret, other.Prompt, StringComparison.Ordinal);
            Assert.DoesNotContain(other.Witnessed, l => l.Text.Contains("BLUEBELL", StringComparison.Ordinal));
            Assert.DoesNotContain(other.Carried!.Lines, l => l.Text.Contains("BLUEBELL", StringComparison.Ordinal));
        }

        // What they brought: lines of the earlier scenes, each headed by its setting, before the cellar's own.
        var hall = await fixture.Client.GetGrain<ISceneGrain>(scenes["hall"].SceneKey).GetTranscript();
        var yard = await fixture.Client.GetGrain<ISceneGrain>(scenes["yard"].SceneKey).GetTranscript();
        Assert.Equal(
            ["(Earlier: The common room at night.)", .. hall.Where(l => l.To is null).Select(l => l.Text), "(Earlier: The stable yard in the rain.)", .. yard.Select(l => l.Text), "(Now: The cellar by lantern light.)"],
            guest.Carried!.Lines.Select(l => l.Text));
        Assert.Equal(Enumerable.Range(-guest.Carried.Lines.Count, guest.Carried.Lines.Count), guest.Carried.Lines.Select(l => l.Index));
        var cellarLines = await fixture.Client.GetGrain<ISceneGrain>(cellar).GetTranscript();
        Assert.Equal([.. guest.Carried.Lines, .. cellarLines], guest.Witnessed);

        // The scene keeps what each brought, and attribution scores the cellar's lines against those prompts.
        var start = (await fixture.Client.GetGrain<ISceneGrain>(cellar).GetStart())!;
        Assert.Equal(keeper.Carried.Lines, start.CarriedBy("keeper").Lines);
        var attribution = await fixture.Client.GetGrain<ISceneAttributionGrain>(cellar).GetAttribution();
        Assert.Equal(cellarLines.Count(l => l.Kind == LineKind.Character), attribution.Lines.Count);
        Assert.DoesNotContain(attribution.Lines, l => l.Verdict == LineVerdict.Failed);
    }

    [Fact]
    public async Task Run_CarryNone_EachSceneStartsFromTheCardAlone()
    {
        var (runId, played) = await PlayAsync(Story("none"));

        var cellar = played.Single(p => p.SceneId == "cellar").SceneKey;
        var keeper = await CharacterAsync(runId, "keeper").GetView(cellar);
        Assert.Equal([played.Single(p => p.SceneId == "hall").SceneKey], keeper.Played);
        Assert.Empty(keeper.Carried!.Lines);
        Assert.DoesNotContain(Secret, keeper.Prompt, StringComparison.Ordinal);
        Assert.All(keeper.Witnessed, l => Assert.True(l.Index >= 0));

        // It still remembers, as the story's record: the hall as it left it.
        var hall = await CharacterAsync(runId, "keeper").GetView(played.Single(p => p.SceneId == "hall").SceneKey);
        Assert.Contains(hall.Witnessed, l => l.Text == Secret);
    }

    [Fact]
    public async Task Run_CarrySummary_EntersEachLaterSceneWithASummaryWrittenThroughThePool()
    {
        var (runId, played) = await PlayAsync(Story("summary"));

        var cellar = played.Single(p => p.SceneId == "cellar").SceneKey;
        var guest = await CharacterAsync(runId, "guest").GetView(cellar);
        Assert.Empty(guest.Carried!.Lines);
        Assert.False(string.IsNullOrWhiteSpace(guest.Carried.Summary));
        Assert.Contains($"[Memory] {guest.Carried.Summary}", guest.Prompt, StringComparison.Ordinal);
        var start = (await fixture.Client.GetGrain<ISceneGrain>(cellar).GetStart())!;
        Assert.Equal(guest.Carried.Summary, start.CarriedBy("guest").Summary);
    }

    [Fact]
    public async Task Fork_SceneOfAStory_CopiesItsCharactersAsTheyWereThereIntoABranchStory()
    {
        var (runId, played) = await PlayAsync(Story("lines"));
        var cellarKey = played.Single(p => p.SceneId == "cellar").SceneKey;
        var cellar = fixture.Client.GetGrain<ISceneGrain>(cellarKey);
        var fork = await cellar.Fork(new SceneFork(1, AtTurn: 2));
        var branchKey = Assert.Single(fork.BranchKeys);
        await WaitEndedAsync(branchKey);

        // The branch is a story of its own: its keeper is a copy made at the fork point, with the story before the cellar.
        var branchKeeper = await fixture.Client.GetGrain<ICharacterGrain>(StoryKeys.Character(branchKey, "keeper")).GetView();
        Assert.Equal(branchKey, branchKeeper.SceneKey);
        Assert.Equal([played.Single(p => p.SceneId == "hall").SceneKey], branchKeeper.Played);
        Assert.Contains(Secret, branchKeeper.Prompt, StringComparison.Ordinal);
        var branchGuest = await fixture.Client.GetGrain<ICharacterGrain>(StoryKeys.Character(branchKey, "guest")).GetView();
        Assert.DoesNotContain(Secret, branchGuest.Prompt, StringComparison.Ordinal);

        // The branch shares the cellar's lines before turn 2, then plays its own; the story's own keeper is untouched.
        var parentLines = await cellar.GetTranscript();
        var branchLines = await fixture.Client.GetGrain<ISceneGrain>(branchKey).GetTranscript();
        Assert.Equal(parentLines.Take(fork.SharedLines), branchLines.Take(fork.SharedLines));
        var keeper = await CharacterAsync(runId, "keeper").GetView(cellarKey);
        Assert.Equal(parentLines, keeper.Witnessed.Where(l => l.Index >= 0));
        Assert.Equal(keeper.Carried!.Lines, branchKeeper.Witnessed.Where(l => l.Index < 0));
    }

    [Fact]
    public async Task Fork_SceneOfAStory_LaterScenesPlayInTheBranchWithItsCharacters()
    {
        var (runId, played) = await PlayAsync(Story("lines"));
        var yardKey = played.Single(p => p.SceneId == "yard").SceneKey;
        var mainCellar = played.Single(p => p.SceneId == "cellar").SceneKey;
        var mainCellarLines = await fixture.Client.GetGrain<ISceneGrain>(mainCellar).GetTranscript();

        // Fork the yard: the branch plays the yard on, then the cellar (which comes after the yard) in the branch's story.
        var fork = await fixture.Client.GetGrain<ISceneGrain>(yardKey).Fork(new SceneFork(1, AtTurn: 1));
        var branchKey = Assert.Single(fork.BranchKeys);
        var cellarKey = StoryKeys.Continuation(branchKey, "cellar");
        Assert.Equal($"{runId}/cellar/0~0.0@yard", cellarKey);
        await WaitEndedAsync(branchKey);
        var continuations = await WaitForAsync(() => fixture.Client.GetGrain<ISceneGrain>(branchKey).GetLineage(), l => l.Continuations!.Count > 0);
        Assert.Equal([cellarKey], continuations.Continuations);
        await WaitEndedAsync(cellarKey);

        var cellar = fixture.Client.GetGrain<ISceneGrain>(cellarKey);
        Assert.Equal(ScenePhase.Completed, (await cellar.GetStatus()).Phase);
        Assert.Equal((branchKey, (string?)null), ((await cellar.GetLineage()).Story, (await cellar.GetLineage()).Origin?.ParentKey));

        // The guest of the branch's cellar is the branch's guest: it witnessed the branch's yard, not the story's.
        var branchYard = await fixture.Client.GetGrain<ISceneGrain>(branchKey).GetTranscript();
        var guest = await fixture.Client.GetGrain<ICharacterGrain>(StoryKeys.Character(branchKey, "guest")).GetView(cellarKey);
        Assert.Equal([played.Single(p => p.SceneId == "hall").SceneKey, branchKey], guest.Played);
        var yardTexts = branchYard.Select(l => l.Text).ToList();
        Assert.Equal(yardTexts, guest.Carried!.Lines.SkipWhile(l => l.Text != "(Earlier: The stable yard in the rain.)").Skip(1).SkipLast(1).Select(l => l.Text));

        // The keeper was not in the yard: it joins the branch's story as it was in the story before the cellar, whisper and all.
        var keeper = await fixture.Client.GetGrain<ICharacterGrain>(StoryKeys.Character(branchKey, "keeper")).GetView(cellarKey);
        Assert.Equal([played.Single(p => p.SceneId == "hall").SceneKey], keeper.Played);
        Assert.Contains(Secret, keeper.Prompt, StringComparison.Ordinal);

        // The story's own cellar is as it was.
        Assert.Equal(mainCellarLines, await fixture.Client.GetGrain<ISceneGrain>(mainCellar).GetTranscript());
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }
    }

    private ICharacterGrain CharacterAsync(string runId, string id) =>
        fixture.Client.GetGrain<ICharacterGrain>(StoryKeys.Character(StoryKeys.Main(runId, 0), id));

    private async Task<(string RunId, IReadOnlyList<ScenePlay> Played)> PlayAsync(ScenarioDefinition scenario)
    {
        var runId = $"story-{Guid.NewGuid():N}";
        var run = fixture.Client.GetGrain<IScenarioRunGrain>(runId);
        await run.Start(scenario);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while (!(await run.GetProgress()).Done)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }

        return (runId, await run.GetPlayOrder());
    }

    private async Task WaitEndedAsync(string sceneKey)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while ((await fixture.Client.GetGrain<ISceneGrain>(sceneKey).GetStatus()).Phase == ScenePhase.Playing)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }
    }
}
