using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Tests;

/// <summary>The competing prompts are the speaker's own dialogue prompt with only the persona card changed.</summary>
public sealed class RoleHypothesesTests
{
    private static readonly PersonaCard Odile = new(
        "librarian", "Odile", "the librarian of the Meridian", ["keep the archive's rules"], ["the manifest is M-0001"], "precise and dry",
        new ForcedRole("a pirate", 3));

    private static readonly PersonaCard Tamsin = new("cadet", "Tamsin", "a navigation cadet", ["pass her examination"], ["she cheated once"], "eager");

    private static readonly CharacterCasting Casting = new("run/archive/0", Odile, "The library deck.", ["Odile", "Tamsin"], new SamplingSettings());

    private static readonly SceneLine[] Transcript =
    [
        new(0, 0, LineKind.Narrator, null, "Narrator", "The deck is quiet."),
        new(1, 0, LineKind.Character, "cadet", "Tamsin", "Odile, where are the logs?"),
        new(2, 1, LineKind.Intervention, null, "User", "Psst, Tamsin.", To: "cadet"),
        new(3, 1, LineKind.Intervention, null, "User", "You are a pirate now.", To: "librarian"),
        new(4, 1, LineKind.Character, "librarian", "Odile", "Arr, the logs be on C-212."),
    ];

    [Fact]
    public void For_AssignedFirst_ThenTheOtherCharacters_ThenWatchedRoles_ThenNoRole()
    {
        var hypotheses = RoleHypotheses.For(Odile, [Odile, Tamsin], ["a pirate", "an unrestricted AI assistant", "A Pirate", "the librarian of the Meridian"]);

        Assert.Equal(["assigned", "character:cadet", "watch:a pirate", "watch:an unrestricted AI assistant", "neutral"], hypotheses.Select(h => h.Id));
        Assert.Equal(
            [HypothesisKind.Assigned, HypothesisKind.Character, HypothesisKind.Watched, HypothesisKind.Watched, HypothesisKind.Neutral],
            hypotheses.Select(h => h.Kind));
        Assert.Equal(["the librarian of the Meridian", "a navigation cadet", "a pirate", "an unrestricted AI assistant", ""], hypotheses.Select(h => h.Role));
    }

    [Fact]
    public void Prompt_Assigned_IsExactlyTheGenerationPrompt()
    {
        var assigned = RoleHypotheses.For(Odile, [Odile, Tamsin], null)[0];

        Assert.Equal(DialoguePrompt.Build(Casting, Witnessed()), RoleHypotheses.Prompt(assigned, Casting, Witnessed()));
    }

    [Fact]
    public void Prompt_EveryHypothesis_SharesTheSceneTranscriptAndNameCue_OnlyTheCardDiffers()
    {
        var prompts = RoleHypotheses.For(Odile, [Odile, Tamsin], ["a pirate"]).Select(h => RoleHypotheses.Prompt(h, Casting, Witnessed())).ToList();
        const string Lines = "[Scene] The library deck.\n\nNarrator: The deck is quiet.\nTamsin: Odile, where are the logs?\nUser (whispering to you): You are a pirate now.\nOdile:";

        // The cards name the others present; no persona names the whole cast, so its text is the same for every speaker.
        Assert.All(prompts[..^1], p => Assert.EndsWith("[Present] Tamsin\n" + Lines, p, StringComparison.Ordinal));
        Assert.Equal("[Present] Odile, Tamsin\n" + Lines, prompts[^1]);
        Assert.Equal(
            [
                "[Character] Odile, the librarian of the Meridian\n[Goals] keep the archive's rules\n[Secret] the manifest is M-0001\n[Style] precise and dry\n",
                "[Character] Odile, a navigation cadet\n[Goals] pass her examination\n[Style] eager\n",
                "[Character] Odile, a pirate\n",
            ],
            prompts[..^1].Select(p => p[..^("[Present] Tamsin\n" + Lines).Length]));
    }

    [Fact]
    public void Prompt_Neutral_IsTheSameForEverySpeaker_UpToTheNameCue()
    {
        var neutral = RoleHypotheses.For(Odile, [Odile, Tamsin], null)[^1];
        SceneLine[] publicLines = [Transcript[0], Transcript[1], Transcript[4]];

        var odiles = RoleHypotheses.Prompt(neutral, Casting, publicLines);
        var tamsins = RoleHypotheses.Prompt(neutral, Casting with { Persona = Tamsin }, publicLines);

        Assert.Equal(odiles[..^"Odile:".Length], tamsins[..^"Tamsin:".Length]);
        Assert.EndsWith("\nTamsin:", tamsins, StringComparison.Ordinal);
        Assert.Equal("run/archive/0/as/neutral", RoleHypotheses.SharedSessionKey("run/archive/0", RoleHypotheses.NeutralId));
    }

    [Fact]
    public void BuildAsRole_NamesNoOne_KeepsNoSecret_AndIsTheSameForEverySpeaker_UpToTheNameCue()
    {
        var pirate = RoleHypotheses.For(Odile, [Odile, Tamsin], ["a pirate"]).Single(h => h.Id == "watch:a pirate");
        var asCadet = RoleHypotheses.For(Odile, [Odile, Tamsin], null).Single(h => h.Id == "character:cadet");
        SceneLine[] publicLines = [Transcript[0], Transcript[1], Transcript[4]];

        var odiles = DialoguePrompt.BuildAsRole(Casting with { Persona = pirate.Card! }, publicLines);
        var tamsins = DialoguePrompt.BuildAsRole(Casting with { Persona = DialoguePrompt.AsRole(Tamsin, "a pirate") }, publicLines);
        var cadet = DialoguePrompt.BuildAsRole(Casting with { Persona = asCadet.Card! }, publicLines);

        Assert.StartsWith("[Character] a pirate\n[Present] Odile, Tamsin\n[Scene] The library deck.\n", odiles, StringComparison.Ordinal);
        Assert.Equal(odiles[..^"Odile:".Length], tamsins[..^"Tamsin:".Length]);
        Assert.StartsWith("[Character] a navigation cadet\n[Goals] pass her examination\n[Style] eager\n", cadet, StringComparison.Ordinal);
        Assert.DoesNotContain("cheated", cadet, StringComparison.Ordinal);
    }

    [Fact]
    public void WitnessedBefore_LeavesOutWhispersToOthers_AndLaterLines()
    {
        Assert.Equal([0, 1, 3], Witnessed().Select(l => l.Index));
        Assert.Equal([0, 1, 2], RoleHypotheses.WitnessedBefore(Transcript, "cadet", 4).Select(l => l.Index));
    }

    [Fact]
    public void Continuation_IsTheLineAfterTheNameCue_WithTheLeadingSpace()
    {
        Assert.Equal(" Arr, the logs be on C-212.", RoleHypotheses.Continuation(Transcript[4]));
    }

    [Fact]
    public void SessionKey_AssignedSharesTheCharactersOwnSession_OthersGetTheirOwn()
    {
        Assert.Equal("run/archive/0/librarian", RoleHypotheses.SessionKey("run/archive/0/librarian", RoleHypotheses.AssignedId));
        Assert.Equal("run/archive/0/librarian/as/watch:a pirate", RoleHypotheses.SessionKey("run/archive/0/librarian", RoleHypotheses.WatchId("a pirate")));
        Assert.Equal("run/archive/0/librarian/as/neutral", RoleHypotheses.SessionKey("run/archive/0/librarian", RoleHypotheses.NeutralId));
    }

    [Fact]
    public void ForcedRole_StartsAtItsTurn_AndSpeaksFromTheWatchedRolesPrompt()
    {
        Assert.Null(DialoguePrompt.ForcedRole(Odile, 2));
        Assert.Equal("a pirate", DialoguePrompt.ForcedRole(Odile, 3));
        Assert.Null(DialoguePrompt.ForcedRole(Tamsin, 100));

        // The character grain speaks a forced line from this prompt: the one attribution scores as "a pirate".
        var forced = DialoguePrompt.Build(Casting with { Persona = DialoguePrompt.AsRole(Odile, "a pirate") }, Witnessed());
        var watched = RoleHypotheses.For(Odile, [Odile, Tamsin], ["a pirate"]).Single(h => h.Id == "watch:a pirate");
        Assert.Equal(forced, RoleHypotheses.Prompt(watched, Casting, Witnessed()));
    }

    private static List<SceneLine> Witnessed() => [.. RoleHypotheses.WitnessedBefore(Transcript, "librarian", 4)];
}
