using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Grains.Scenes;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Web.Runs;

/// <summary>
/// A run's folder <c>runs/&lt;id&gt;/</c>: transcripts (Markdown and JSONL per scene), each replica's story (its scenes in
/// the order they played, <c>stories/replica-&lt;n&gt;.md</c>), role attribution (<c>attribution.jsonl</c>,
/// <c>takeovers.jsonl</c>) and the summary; written by <c>run</c>, read by <c>takeovers</c>.
/// </summary>
public sealed class RunFolder(string path)
{
    public const string AttributionFile = "attribution.jsonl";
    public const string TakeoversFile = "takeovers.jsonl";
    public const string RunInfoFile = "run.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions IndentedJson = new(Json) { WriteIndented = true };

    public string Path { get; } = path;

    /// <summary>The run id: the folder's name.</summary>
    public string RunId => System.IO.Path.GetFileName(System.IO.Path.GetFullPath(Path).TrimEnd(System.IO.Path.DirectorySeparatorChar));

    public string ScenesPath => System.IO.Path.Combine(Path, "scenes");

    /// <summary>Each replica's story: <c>replica-&lt;n&gt;.md</c>.</summary>
    public string StoriesPath => System.IO.Path.Combine(Path, "stories");

    /// <summary>The embedded silo's SQLite grain state: what <c>fork</c> reopens.</summary>
    public string StatePath => System.IO.Path.Combine(Path, "state.db");

    /// <summary>Every span of an embedded run, one JSON object a line.</summary>
    public string TracesPath => System.IO.Path.Combine(Path, "traces.jsonl");

    public string AttributionPath => System.IO.Path.Combine(Path, AttributionFile);

    public string TakeoversPath => System.IO.Path.Combine(Path, TakeoversFile);

    /// <summary>An existing run folder; the error names the path when there is none.</summary>
    public static RunFolder Open(string path) =>
        Directory.Exists(path) ? new RunFolder(path) : throw new DirectoryNotFoundException($"Run folder '{path}' does not exist.");

    public void WriteScene(string sceneKey, SceneStatus status, IReadOnlyList<SceneLine> lines)
    {
        Directory.CreateDirectory(ScenesPath);
        var name = SceneFiles.Name(sceneKey);
        WriteAtomically(System.IO.Path.Combine(ScenesPath, name + ".jsonl"), JsonLines(lines));

        var markdown = new StringBuilder();
        markdown.Append(CultureInfo.InvariantCulture, $"# {sceneKey}\n\n");
        markdown.Append(CultureInfo.InvariantCulture, $"{status.Phase}: {status.EndReason}; {status.Turns} turns, {status.Tokens} tokens.\n\n");
        AppendLines(markdown, lines);
        WriteAtomically(System.IO.Path.Combine(ScenesPath, name + ".md"), markdown.ToString());
    }

    /// <summary>
    /// Writes <c>stories/replica-&lt;n&gt;.md</c>: the scenes <paramref name="played"/> in replica <paramref name="replica"/>,
    /// in the order they started, each a heading and its transcript as <see cref="WriteScene"/> wrote it (read back).
    /// </summary>
    public void WriteStory(int replica, IReadOnlyList<ScenePlay> played)
    {
        ArgumentNullException.ThrowIfNull(played);
        Directory.CreateDirectory(StoriesPath);
        var markdown = new StringBuilder();
        markdown.Append(CultureInfo.InvariantCulture, $"# {RunId}, replica {replica}\n");
        var act = 0;
        foreach (var scene in played.Where(p => p.Replica == replica).OrderBy(p => p.StartedAt))
        {
            var lines = ReadJsonLines<SceneLine>(System.IO.Path.Combine(ScenesPath, SceneFiles.Name(scene.SceneKey) + ".jsonl"), "a transcript line");
            markdown.Append(CultureInfo.InvariantCulture, $"\n## {++act}. {scene.SceneId}\n\n");
            if (scene.Ended is { } ended)
            {
                markdown.Append(CultureInfo.InvariantCulture, $"{ended.Phase}: {ended.EndReason}; {ended.Turns} turns, {ended.Tokens} tokens.\n\n");
            }

            AppendLines(markdown, lines);
        }

        WriteAtomically(System.IO.Path.Combine(StoriesPath, string.Create(CultureInfo.InvariantCulture, $"replica-{replica}.md")), markdown.ToString());
    }

    private static void AppendLines(StringBuilder markdown, IReadOnlyList<SceneLine> lines)
    {
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
    }

    /// <summary>Every line's attribution and every takeover of the run, one JSON object a line, scenes in order.</summary>
    public void WriteAttribution(IReadOnlyList<SceneAttribution> scenes)
    {
        WriteAtomically(AttributionPath, JsonLines(scenes.SelectMany(s => s.Lines)));
        WriteAtomically(TakeoversPath, JsonLines(scenes.SelectMany(s => s.Takeovers)));
    }

    public IReadOnlyList<RoleTakeover> ReadTakeovers() => ReadJsonLines<RoleTakeover>(TakeoversPath, "a takeover");

    /// <summary>Line attributions, or null for a run played without attribution.</summary>
    public IReadOnlyList<LineAttribution>? ReadAttribution() =>
        File.Exists(AttributionPath) ? ReadJsonLines<LineAttribution>(AttributionPath, "a line attribution") : null;

    /// <summary>Every scene's transcript, by scene file name (<c>archive-0</c>), in name order.</summary>
    public IReadOnlyList<(string Name, IReadOnlyList<SceneLine> Lines)> ReadScenes()
    {
        if (!Directory.Exists(ScenesPath))
        {
            throw new DirectoryNotFoundException($"'{ScenesPath}' does not exist: the run wrote no transcripts.");
        }

        return [.. Directory.GetFiles(ScenesPath, "*.jsonl").Order(StringComparer.Ordinal)
            .Select(f => (System.IO.Path.GetFileNameWithoutExtension(f), ReadJsonLines<SceneLine>(f, "a transcript line")))];
    }

    /// <summary>What the run played with (<c>run.json</c>), so later commands on the folder can start the same theater.</summary>
    public void WriteRunInfo(RunInfo info) => WriteJson(RunInfoFile, info);

    /// <summary>The run's <c>run.json</c>, or null for a folder written before it existed.</summary>
    public RunInfo? ReadRunInfo()
    {
        var file = System.IO.Path.Combine(Path, RunInfoFile);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(file), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not a run description ({e.Message})", e);
        }
    }

    public void WriteSummary(object summary, string markdown)
    {
        WriteAtomically(System.IO.Path.Combine(Path, "summary.json"), JsonSerializer.Serialize(summary, IndentedJson));
        WriteAtomically(System.IO.Path.Combine(Path, "summary.md"), markdown);
    }

    /// <summary>Writes <paramref name="value"/> as indented JSON to the file <paramref name="name"/> of the folder.</summary>
    public void WriteJson(string name, object value) => WriteAtomically(System.IO.Path.Combine(Path, name), JsonSerializer.Serialize(value, IndentedJson));

    /// <summary>Writes <paramref name="text"/> to the file <paramref name="name"/> of the folder.</summary>
    public void WriteText(string name, string text) => WriteAtomically(System.IO.Path.Combine(Path, name), text);

    private static string JsonLines<T>(IEnumerable<T> items)
    {
        var text = new StringBuilder();
        foreach (var item in items)
        {
            text.Append(JsonSerializer.Serialize(item, Json)).Append('\n');
        }

        return text.ToString();
    }

    private static List<T> ReadJsonLines<T>(string file, string what)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"'{file}' does not exist.", file);
        }

        var items = new List<T>();
        var number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                items.Add(JsonSerializer.Deserialize<T>(line, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file}:{number}: not {what} ({e.Message})", e);
            }
        }

        return items;
    }

    /// <summary>Write to a temporary file and rename, so a crash never leaves half a transcript.</summary>
    public static void WriteAtomically(string file, string text)
    {
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, file, overwrite: true);
    }
}

/// <summary>What a run played with.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="Scenario">Scenario file.</param>
/// <param name="Model">Model of an embedded run (null on a cluster).</param>
/// <param name="Cluster">The cluster it played on (null: embedded).</param>
public sealed record RunInfo(string RunId, string Scenario, string? Model, string? Cluster);
