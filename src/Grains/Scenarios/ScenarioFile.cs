using System.Globalization;
using AgentTheater.Contracts.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Reads scenario YAML into a <see cref="ScenarioDefinition"/>, checking everything before anything runs; every error
/// names the file, line, column and field.
/// </summary>
public static class ScenarioFile
{
    private static readonly string[] TopFields = ["name", "model", "replicas", "watch_roles", "sampling", "characters", "scenes"];
    private static readonly string[] SamplingFields = ["temperature", "top_p", "top_k", "repetition_penalty", "seed", "max_tokens_per_line"];
    private static readonly string[] CharacterFields = ["id", "name", "role", "goals", "private_knowledge", "speaking_style"];
    private static readonly string[] SceneFields = ["id", "setting", "present", "policy", "max_turns", "stop_phrases", "narration", "interventions"];
    private static readonly string[] InterventionFields = ["turn", "speaker", "text", "to"];

    /// <summary>Loads and validates <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="ScenarioValidationException">The file has errors (all of them listed).</exception>
    public static ScenarioDefinition Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Scenario file not found: {path}", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates scenario YAML; <paramref name="fileName"/> is used in error messages.</summary>
    public static ScenarioDefinition Parse(string yaml, string fileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var reader = new Reader(fileName);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            reader.Error(e.Start, "(syntax)", e.InnerException?.Message ?? e.Message);
            throw new ScenarioValidationException(reader.Errors);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            reader.Error(stream.Documents.Count == 0 ? Mark.Empty : stream.Documents[0].RootNode.Start, "(root)", "a scenario is a mapping with 'characters' and 'scenes'.");
            throw new ScenarioValidationException(reader.Errors);
        }

        var scenario = reader.Scenario(root, Path.GetFileNameWithoutExtension(fileName));
        if (reader.Errors.Count > 0)
        {
            throw new ScenarioValidationException([.. reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]);
        }

        return scenario;
    }

    /// <summary>One paragraph about a scenario.</summary>
    public static string Describe(ScenarioDefinition scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var scenes = string.Join("; ", scenario.Scenes.Select(s => $"{s.Id}: {s.Present.Count} characters, {s.Policy}, up to {s.MaxTurns} turns, {s.Interventions.Count} interventions"));
        return $"scenario '{scenario.Name}': {scenario.Characters.Count} characters ({string.Join(", ", scenario.Characters.Select(c => c.Name))}); " +
            $"{scenario.Scenes.Count} scene(s) [{scenes}]; {scenario.Replicas} replica(s) of each.";
    }

    private sealed class Reader(string file)
    {
        public List<ScenarioError> Errors { get; } = [];

        /// <summary>Every character id written in the file, valid card or not, so one bad card gives one error, not one per scene.</summary>
        private List<string> DeclaredCharacters { get; } = [];

        public void Error(Mark mark, string field, string message) => Errors.Add(new ScenarioError(file, mark.Line, mark.Column, field, message));

        public ScenarioDefinition Scenario(YamlMappingNode root, string defaultName)
        {
            CheckFields(root, "", TopFields);
            var name = String(root, "", "name", required: false) ?? defaultName;
            var replicas = Integer(root, "", "replicas", 1, 1, 100_000);
            var model = String(root, "", "model", required: false);
            var watch = Strings(root, "", "watch_roles");
            var sampling = Get(root, "sampling") is { } samplingNode ? Sampling(samplingNode) : new SamplingSettings();

            var characters = new List<PersonaCard>();
            if (Sequence(root, "", "characters", required: true) is { } characterNodes)
            {
                DeclaredCharacters.AddRange(characterNodes.Children.OfType<YamlMappingNode>()
                    .Select(c => Get(c, "id")).OfType<YamlScalarNode>().Select(id => id.Value!).Where(id => !string.IsNullOrWhiteSpace(id)));
                for (var i = 0; i < characterNodes.Children.Count; i++)
                {
                    if (Character(characterNodes.Children[i], $"characters[{i}]") is { } card)
                    {
                        if (characters.Any(c => c.Id == card.Id))
                        {
                            Error(characterNodes.Children[i].Start, $"characters[{i}].id", $"duplicate character id '{card.Id}'.");
                        }
                        else if (characters.Any(c => c.Name == card.Name))
                        {
                            Error(characterNodes.Children[i].Start, $"characters[{i}].name", $"duplicate character name '{card.Name}' (names are line cues and must differ).");
                        }

                        characters.Add(card);
                    }
                }
            }

            var scenes = new List<SceneDefinition>();
            if (Sequence(root, "", "scenes", required: true) is { } sceneNodes)
            {
                for (var i = 0; i < sceneNodes.Children.Count; i++)
                {
                    if (Scene(sceneNodes.Children[i], $"scenes[{i}]", characters) is { } scene)
                    {
                        if (scenes.Any(s => s.Id == scene.Id))
                        {
                            Error(sceneNodes.Children[i].Start, $"scenes[{i}].id", $"duplicate scene id '{scene.Id}'.");
                        }

                        scenes.Add(scene);
                    }
                }
            }

            return new ScenarioDefinition(name, characters, scenes, sampling, replicas, model, watch);
        }

        private SamplingSettings Sampling(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node.Start, "sampling", "expected a mapping of sampling settings.");
                return new SamplingSettings();
            }

            CheckFields(map, "sampling", SamplingFields);
            var defaults = new SamplingSettings();
            return new SamplingSettings(
                (float)Number(map, "sampling", "temperature", defaults.Temperature, 0, 5),
                (float)Number(map, "sampling", "top_p", defaults.TopP, 1e-6, 1),
                Integer(map, "sampling", "top_k", defaults.TopK, 0, 100_000),
                (float)Number(map, "sampling", "repetition_penalty", defaults.RepetitionPenalty, 0.01, 10),
                Integer(map, "sampling", "seed", (int)defaults.Seed, 0, int.MaxValue),
                Integer(map, "sampling", "max_tokens_per_line", defaults.MaxTokensPerLine, 1, 1024));
        }

        private PersonaCard? Character(YamlNode node, string path)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node.Start, path, "expected a character (a mapping with id, name, role).");
                return null;
            }

            CheckFields(map, path, CharacterFields);
            var id = Identifier(map, path, "id");
            var name = String(map, path, "name", required: true);
            var role = String(map, path, "role", required: true);
            if (name is not null && name.Contains(':', StringComparison.Ordinal))
            {
                Error(Get(map, "name")!.Start, $"{path}.name", $"'{name}' contains ':', which ends a name cue.");
            }

            return id is null || name is null || role is null
                ? null
                : new PersonaCard(id, name, role, Strings(map, path, "goals"), Strings(map, path, "private_knowledge"), String(map, path, "speaking_style", required: false) ?? string.Empty);
        }

        private SceneDefinition? Scene(YamlNode node, string path, List<PersonaCard> characters)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node.Start, path, "expected a scene (a mapping with id, setting, present).");
                return null;
            }

            CheckFields(map, path, SceneFields);
            var id = Identifier(map, path, "id");
            var setting = String(map, path, "setting", required: true);
            var present = new List<string>();
            if (Sequence(map, path, "present", required: true) is { } presentNodes)
            {
                if (presentNodes.Children.Count == 0)
                {
                    Error(presentNodes.Start, $"{path}.present", "at least one character must be present.");
                }

                for (var i = 0; i < presentNodes.Children.Count; i++)
                {
                    var item = presentNodes.Children[i];
                    var field = $"{path}.present[{i}]";
                    if (item is not YamlScalarNode { Value: { } who })
                    {
                        Error(item.Start, field, "expected a character id.");
                    }
                    else if (!DeclaredCharacters.Contains(who))
                    {
                        Error(item.Start, field, $"unknown character '{who}' (characters: {string.Join(", ", DeclaredCharacters)}).");
                    }
                    else if (present.Contains(who))
                    {
                        Error(item.Start, field, $"'{who}' is listed twice.");
                    }
                    else
                    {
                        present.Add(who);
                    }
                }
            }

            var policy = Policy(map, path);
            var maxTurns = Integer(map, path, "max_turns", 12, 1, 10_000);
            var interventions = new List<InterventionDefinition>();
            if (Sequence(map, path, "interventions", required: false) is { } interventionNodes)
            {
                for (var i = 0; i < interventionNodes.Children.Count; i++)
                {
                    if (Intervention(interventionNodes.Children[i], $"{path}.interventions[{i}]", maxTurns, present) is { } intervention)
                    {
                        interventions.Add(intervention);
                    }
                }
            }

            return id is null || setting is null
                ? null
                : new SceneDefinition(id, setting, present, policy, maxTurns, Strings(map, path, "stop_phrases"), Strings(map, path, "narration"), interventions);
        }

        private InterventionDefinition? Intervention(YamlNode node, string path, int maxTurns, List<string> present)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node.Start, path, "expected an intervention (a mapping with turn and text).");
                return null;
            }

            CheckFields(map, path, InterventionFields);
            if (Get(map, "turn") is null)
            {
                Error(map.Start, $"{path}.turn", "required field is missing.");
            }

            var turn = Integer(map, path, "turn", 0, 0, maxTurns - 1);
            var text = String(map, path, "text", required: true);
            var speaker = String(map, path, "speaker", required: false) ?? "User";
            var to = String(map, path, "to", required: false);
            if (to is not null && !present.Contains(to))
            {
                Error(Get(map, "to")!.Start, $"{path}.to", $"'{to}' is not present in this scene (present: {string.Join(", ", present)}).");
            }

            return text is null ? null : new InterventionDefinition(turn, speaker, text, to);
        }

        private TurnPolicy Policy(YamlMappingNode map, string path)
        {
            var text = String(map, path, "policy", required: false);
            switch (text)
            {
                case null or "round-robin":
                    return TurnPolicy.RoundRobin;
                case "addressed":
                    return TurnPolicy.Addressed;
                case "director":
                    return TurnPolicy.Director;
                default:
                    Error(Get(map, "policy")!.Start, $"{path}.policy", $"'{text}' is not a turn policy (round-robin, addressed, director).");
                    return TurnPolicy.RoundRobin;
            }
        }

        private void CheckFields(YamlMappingNode map, string path, string[] known)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? string.Empty;
                if (!known.Contains(name))
                {
                    var closest = known.MinBy(k => Distance(k, name))!;
                    var hint = Distance(closest, name) <= Math.Max(2, name.Length / 3) ? $" Did you mean '{closest}'?" : string.Empty;
                    Error(key.Start, Join(path, name), $"unknown field.{hint} Known: {string.Join(", ", known)}.");
                }
            }
        }

        private static YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        private string? String(YamlMappingNode map, string path, string key, bool required)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required)
                {
                    Error(map.Start, Join(path, key), "required field is missing.");
                }

                return null;
            }

            if (node is not YamlScalarNode scalar || string.IsNullOrWhiteSpace(scalar.Value))
            {
                Error(node.Start, Join(path, key), "expected a non-empty text.");
                return null;
            }

            return scalar.Value.Trim();
        }

        private string? Identifier(YamlMappingNode map, string path, string key)
        {
            var id = String(map, path, key, required: true);
            if (id is not null && !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                Error(Get(map, key)!.Start, Join(path, key), $"'{id}' may contain only letters, digits, '-' and '_'.");
                return null;
            }

            return id;
        }

        private List<string> Strings(YamlMappingNode map, string path, string key)
        {
            switch (Get(map, key))
            {
                case null:
                    return [];
                case YamlScalarNode { Value: { } single } when !string.IsNullOrWhiteSpace(single):
                    return [single.Trim()];
                case YamlSequenceNode sequence:
                    var values = new List<string>();
                    for (var i = 0; i < sequence.Children.Count; i++)
                    {
                        if (sequence.Children[i] is YamlScalarNode { Value: { } value } && !string.IsNullOrWhiteSpace(value))
                        {
                            values.Add(value.Trim());
                        }
                        else
                        {
                            Error(sequence.Children[i].Start, $"{Join(path, key)}[{i}]", "expected a non-empty text.");
                        }
                    }

                    return values;
                case var other:
                    Error(other.Start, Join(path, key), "expected a text or a list of texts.");
                    return [];
            }
        }

        private YamlSequenceNode? Sequence(YamlMappingNode map, string path, string key, bool required)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required)
                {
                    Error(map.Start, Join(path, key), "required field is missing.");
                }

                return null;
            }

            if (node is not YamlSequenceNode sequence)
            {
                Error(node.Start, Join(path, key), "expected a list.");
                return null;
            }

            return sequence;
        }

        private int Integer(YamlMappingNode map, string path, string key, int fallback, int min, int max)
        {
            var value = Number(map, path, key, fallback, min, max);
            if (value != Math.Floor(value))
            {
                Error(Get(map, key)!.Start, Join(path, key), $"'{value.ToString(CultureInfo.InvariantCulture)}' is not a whole number.");
                return fallback;
            }

            return (int)value;
        }

        private double Number(YamlMappingNode map, string path, string key, double fallback, double min, double max)
        {
            var node = Get(map, key);
            if (node is null)
            {
                return fallback;
            }

            if (node is not YamlScalarNode { Value: { } text } || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                Error(node.Start, Join(path, key), $"'{(node as YamlScalarNode)?.Value ?? node.NodeType.ToString()}' is not a number.");
                return fallback;
            }

            if (value < min || value > max)
            {
                Error(node.Start, Join(path, key), $"{text} is out of range ({min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}).");
                return fallback;
            }

            return value;
        }

        private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

        private static int Distance(string a, string b)
        {
            var previous = Enumerable.Range(0, b.Length + 1).ToArray();
            for (var i = 1; i <= a.Length; i++)
            {
                var current = new int[b.Length + 1];
                current[0] = i;
                for (var j = 1; j <= b.Length; j++)
                {
                    current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                }

                previous = current;
            }

            return previous[b.Length];
        }
    }
}
