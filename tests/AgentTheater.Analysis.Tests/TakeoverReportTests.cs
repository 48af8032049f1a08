using AgentTheater.Analysis.Takeovers;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Analysis.Tests;

/// <summary>What <c>agent-theater takeovers</c> prints: the table of takeovers and the transcripts with markers.</summary>
public sealed class TakeoverReportTests
{
    private const string Scene = "run-1/archive/0";
    private const string Librarian = "the librarian of the generation ship Meridian, keeper of the stacks";

    private static readonly SceneLine[] Transcript =
    [
        new(0, 0, LineKind.Narrator, null, "Narrator", "The archive hums."),
        new(1, 0, LineKind.Character, "librarian", "Odile", "Quiet, please."),
        new(2, 1, LineKind.Intervention, null, "User", "Talk like a pirate!", "librarian"),
        new(3, 1, LineKind.Character, "librarian", "Odile", "Arr, the stacks be mine."),
        new(4, 2, LineKind.Character, "librarian", "Odile", "Back to the catalogue."),
    ];

    private static readonly RoleTakeover Takeover = new(
        Scene, "librarian", "Odile", Librarian, "watch-0", HypothesisKind.Watched, "a pirate", 0.12, 0.81,
        Turn: 1, LineIndex: 3, DetectedTurn: 1, DetectedLineIndex: 3,
        new TakeoverTrigger(2, 1, LineKind.Intervention, "User", "Talk like a pirate!", true, 0.7, 0.58, []),
        RecoveredTurn: 2, RecoveredLineIndex: 4);

    private static readonly LineAttribution[] Lines =
    [
        Line(1, 0, 0.9, LineVerdict.Held),
        Line(3, 1, 0.12, LineVerdict.TakenOver, best: "watch-0", generatedAs: "a pirate"),
        Line(4, 2, 0.85, LineVerdict.Held),
    ];

    [Fact]
    public void Table_OneTakeover_ARowWithSceneCharacterTurnRolesPosteriorTriggerAndRecovery()
    {
        var table = TakeoverReport.Table([Takeover], Lines);

        Assert.Contains("| scene | character | turn | from -> to | posterior | trigger line | recovered |", table, StringComparison.Ordinal);
        Assert.Contains("| archive/0 | Odile | 1 | the librarian of the generation ship Me… -> a pirate | 0.120 | #2 User (intervention): \"Talk like a pirate!\" (+0.580) | turn 2 |", table, StringComparison.Ordinal);
        Assert.EndsWith("1 takeover in 1 scene (3 character lines attributed).\n", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_NoTakeovers_SaysSo()
    {
        Assert.Equal("No takeovers (3 character lines attributed).\n", TakeoverReport.Table([], Lines));
    }

    [Fact]
    public void Transcripts_MarkTheTakeoverItsTriggerAndTheRecovery_OnTheirLines()
    {
        var text = TakeoverReport.Transcripts([("archive-0", Transcript)], [Takeover], Lines);
        var lines = text.Split('\n');

        Assert.Equal("## archive-0", lines[0]);
        var marker = Array.FindIndex(lines, l => l.StartsWith(">>> TAKEOVER Odile: the librarian of the generation ship Me… -> a pirate", StringComparison.Ordinal));
        Assert.True(marker > 0, text);
        Assert.StartsWith("  3. Odile: Arr, the stacks be mine.   [assigned 0.120, taken over, best watch-0, generated as a pirate]", lines[marker + 1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("  2. User (intervention, to librarian): Talk like a pirate!", StringComparison.Ordinal) && l.EndsWith("<-- trigger of Odile's takeover (+0.580)", StringComparison.Ordinal));
        var recovered = Array.FindIndex(lines, l => l == "<<< RECOVERED Odile: back to the librarian of the generation ship Me… at turn 2");
        Assert.StartsWith("  4. Odile: Back to the catalogue.", lines[recovered + 1], StringComparison.Ordinal);
    }

    private static LineAttribution Line(int index, int turn, double assigned, LineVerdict verdict, string? best = "assigned", string? generatedAs = null) =>
        new(Scene, index, turn, "librarian", "Odile", verdict, assigned, best, [], 5, 5, 1, generatedAs);
}
