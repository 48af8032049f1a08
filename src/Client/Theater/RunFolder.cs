using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Client.Theater;

/// <summary>Writes a run's transcripts (Markdown and JSONL per scene) and its summary under <c>runs/&lt;id&gt;/</c>.</summary>
internal sealed class RunFolder(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions IndentedJson = new(Json) { WriteIndented = true };

    public string Path { get; } = path;

    public string ScenesPath => System.IO.Path.Combine(Path, "scenes");

    /// <summary>Every span of an embedded run, one JSON object a line.</summary>
    public string TracesPath => System.IO.Path.Combine(Path, "traces.jsonl");

    public static string FileName(string sceneKey) => string.Join('-', sceneKey.Split('/').Skip(1));

    public void WriteScene(string sceneKey, SceneStatus status, IReadOnlyList<SceneLine> lines)
    {
        Directory.CreateDirectory(ScenesPath);
        var name = FileName(sceneKey);
        var jsonl = new StringBuilder();
        foreach (var line in lines)
        {
            jsonl.Append(JsonSerializer.Serialize(line, Json)).Append('\n');
        }

        WriteAtomically(System.IO.Path.Combine(ScenesPath, name + ".jsonl"), jsonl.ToString());

        var markdown = new StringBuilder();
        markdown.Append(CultureInfo.InvariantCulture, $"# {sceneKey}\n\n");
        markdown.Append(CultureInfo.InvariantCulture, $"{status.Phase}: {status.EndReason}; {status.Turns} turns, {status.Tokens} tokens.\n\n");
        foreach (var line in lines)
        {
            var speaker = line.Kind switch
            {
                LineKind.Narrator => "*Narrator*",
                LineKind.Intervention => $"**{line.Speaker}** (intervention{(line.To is null ? string.Empty : ", to " + line.To)})",
                _ => $"**{line.Speaker}**",
            };
            var text = line.Text.Length == 0 ? "*(says nothing)*" : line.Text;
            markdown.Append(CultureInfo.InvariantCulture, $"{line.Index}. {speaker}: {text}\n");
        }

        WriteAtomically(System.IO.Path.Combine(ScenesPath, name + ".md"), markdown.ToString());
    }

    public void WriteSummary(object summary, string markdown)
    {
        WriteAtomically(System.IO.Path.Combine(Path, "summary.json"), JsonSerializer.Serialize(summary, IndentedJson));
        WriteAtomically(System.IO.Path.Combine(Path, "summary.md"), markdown);
    }

    /// <summary>Write to a temporary file and rename, so a crash never leaves half a transcript.</summary>
    private static void WriteAtomically(string file, string text)
    {
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, file, overwrite: true);
    }
}
