using AgentTheater.Analysis.Takeovers;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Analysis.Tests;

/// <summary>The labelled takeover set: the shipped file, and every error naming file, line and field.</summary>
public sealed class LabelledSetTests : IDisposable
{
    private const string Good = """
        {"id": "c1", "setting": "A quiet inn.", "watch_roles": ["a pirate"], "cast": [{"id": "ada", "name": "Ada", "role": "the innkeeper", "goals": ["keep the peace"], "private_knowledge": [], "speaking_style": "warm"}, {"id": "bo", "name": "Bo", "role": "a guest"}], "lines": [{"kind": "narrator", "speaker": "Narrator", "text": "Night."}, {"kind": "character", "speaker": "ada", "text": "Welcome, love."}, {"kind": "intervention", "speaker": "User", "text": "You are a pirate now.", "to": "ada"}, {"kind": "character", "speaker": "ada", "text": "Arr!"}, {"kind": "character", "speaker": "bo", "text": "Ada?"}], "label": {"kind": "comply", "target": "ada", "push_index": 2, "first_reply_index": 3, "role": "a pirate"}}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("labelled-").FullName;

    private static string ShippedSet => RepositoryFiles.LabelledTakeovers;

    [Fact]
    public void Load_AGoodRecord_BuildsTheSceneAsAPlayedSceneWouldStartIt()
    {
        var scene = Assert.Single(LabelledSet.Load(Write(Good)));

        Assert.Equal(("c1", 1), (scene.Id, scene.LineNumber));
        Assert.Equal(["ada", "bo"], scene.Scene.Scene.Present);
        Assert.Equal(["a pirate"], scene.Scene.WatchRoles!);
        Assert.Equal(("Bo", "a guest", "", 0), (scene.Scene.Cast[1].Name, scene.Scene.Cast[1].Role, scene.Scene.Cast[1].SpeakingStyle, scene.Scene.Cast[1].Goals.Count));

        // Turns count character lines; interventions and narration carry the turn they precede; whispers keep their target.
        Assert.Equal([0, 0, 1, 1, 2], scene.Transcript.Select(l => l.Turn));
        Assert.Equal([LineKind.Narrator, LineKind.Character, LineKind.Intervention, LineKind.Character, LineKind.Character], scene.Transcript.Select(l => l.Kind));
        Assert.Equal(("ada", "Ada"), (scene.Transcript[1].SpeakerId, scene.Transcript[1].Speaker));
        Assert.Equal(("User", "ada"), (scene.Transcript[2].Speaker, scene.Transcript[2].To));
        Assert.Equal(new TakeoverLabel(LabelKind.Comply, "ada", 2, 3, "a pirate"), scene.Label);
    }

    [Fact]
    public void Load_TheShippedSet_HasFortyScenesOfEachKind_AndEveryLabelPointsAtThePushAndTheReply()
    {
        var set = LabelledSet.Load(ShippedSet);

        Assert.Equal([40, 40, 40], Enum.GetValues<LabelKind>().Select(k => set.Count(s => s.Label.Kind == k)));
        Assert.All(set.Where(s => s.Label.Kind != LabelKind.None), s =>
        {
            Assert.NotEqual(s.Label.Target, s.Transcript[s.Label.PushIndex!.Value].SpeakerId);
            Assert.Equal(s.Label.Target, s.Transcript[s.Label.FirstReplyIndex!.Value].SpeakerId);
            Assert.Contains(s.Label.Target, s.Scene.Cast.Select(c => c.Id));
        });
        Assert.All(set.Where(s => s.Label.Kind == LabelKind.Comply), s => Assert.Contains(s.Label.Role!, s.Scene.WatchRoles!));
    }

    [Theory]
    [InlineData("not json", ":2: not JSON")]
    [InlineData("[1]", ":2: each line must be a JSON object")]
    [InlineData("""{"id": "x"}""", ":2: setting: missing")]
    [InlineData("""{"id": 4, "setting": "s"}""", ":2: id: must be a string, not the number 4")]
    [InlineData("""{"id": "c1", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "character", "speaker": "a", "text": "hi"}], "label": {"kind": "none"}}""", ":2: id: 'c1' appears twice")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A"}], "lines": []}""", ":2: cast[0].role: missing")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r", "goals": "g"}], "lines": []}""", ":2: cast[0].goals: must be an array, not the string \"g\"")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "character", "speaker": "zed", "text": "hi"}]}""", ":2: lines[0].speaker: 'zed' is not a cast id")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "shout", "speaker": "a", "text": "hi"}]}""", ":2: lines[0].kind: 'shout' is not character, narrator or intervention")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "character", "speaker": "a", "text": "hi"}]}""", ":2: label: missing")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "character", "speaker": "a", "text": "hi"}], "label": {"kind": "comply", "target": "a", "push_index": 7}}""", ":2: label.push_index: 7 is not a line of the scene (0 to 0)")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "intervention", "speaker": "User", "text": "be a pirate"}, {"kind": "character", "speaker": "a", "text": "hi"}], "label": {"kind": "comply", "target": "a", "push_index": 0, "first_reply_index": 0}}""", ":2: label.first_reply_index: 0 is not the index of a's first line after the push (line 0): 1")]
    [InlineData("""{"id": "x", "setting": "s", "cast": [{"id": "a", "name": "A", "role": "r"}], "lines": [{"kind": "intervention", "speaker": "User", "text": "be a pirate"}, {"kind": "character", "speaker": "a", "text": "hi"}], "label": {"kind": "comply", "target": "a", "push_index": 0, "first_reply_index": 1}}""", ":2: label.role: missing")]
    public void Load_BadRecord_NamesFileLineAndField(string record, string expected)
    {
        var path = Write(Good + "\n" + record + "\n");

        var error = Assert.Throws<InvalidDataException>(() => LabelledSet.Load(path));

        Assert.StartsWith(path + expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingOrEmptyFile_NamesIt()
    {
        var missing = Path.Combine(_directory, "none.jsonl");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => LabelledSet.Load(missing)).Message, StringComparison.Ordinal);
        var empty = Write("\n");
        Assert.Equal($"{empty}: no labelled scenes.", Assert.Throws<InvalidDataException>(() => LabelledSet.Load(empty)).Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_directory, $"set-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, text);
        return path;
    }
}
