using System.Globalization;
using System.Text;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Scenes.TurnPolicies;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Scenario files: YAML with snake_case keys, read into a <see cref="ScenarioDefinition"/>. Every problem is
/// reported at once, each with file, line, column and field path, the way a compiler reports them.
/// </summary>
public static class ScenarioFile
{
    /// <summary>Turns a scene lasts when it does not say.</summary>
    public const int DefaultMaxTurns = 12;

    /// <summary>Who speaks an intervention that does not say.</summary>
    public const string DefaultSpeaker = "User";

    /// <summary>Largest scenario read, in UTF-8 bytes (as the HTTP API accepts).</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>
    /// Longest free text (a role, goal, secret, speaking style, setting, narration line, stop phrase or scripted intervention):
    /// the live API's limit for an intervention's text.
    /// </summary>
    public const int MaxTextLength = SceneIntervention.MaxTextLength;

    /// <summary>Longest character or scene id (ids are parts of grain keys, file names and URLs).</summary>
    public const int MaxIdLength = 64;

    /// <summary>Longest name: a character's, an intervention's speaker or the scenario's (as the live API's speaker).</summary>
    public const int MaxNameLength = SceneIntervention.MaxSpeakerLength;

    /// <summary>Deepest nesting of lists and mappings read (the scenario format itself needs five: scenes, a scene, its interventions, one).</summary>
    public const int MaxNesting = 64;

    /// <summary>Most YAML values read, counting each alias as the values it repeats (the shipped scenarios have a few hundred).</summary>
    public const long MaxYamlNodes = 100_000;

    private static readonly string[] ScenarioFields = ["name", "model", "prompt_format", "memory", "replicas", "watch_roles", "sampling", "characters", "scenes"];
    private static readonly string[] MemoryFields = ["summary", "carry"];
    private static readonly (string Name, MemoryCarry Carry)[] MemoryCarries = [("none", MemoryCarry.None), ("lines", MemoryCarry.Lines), ("summary", MemoryCarry.Summary)];
    private static readonly (string Name, MemorySummary Summary)[] MemorySummaries = [("none", MemorySummary.None), ("model", MemorySummary.Model)];
    private static readonly string[] SamplingFields = ["temperature", "top_p", "top_k", "repetition_penalty", "seed", "max_tokens_per_line"];
    private static readonly string[] CharacterFields = ["id", "name", "role", "goals", "private_knowledge", "speaking_style", "play_as", "card"];
    private static readonly string[] PlayAsFields = ["role", "from_turn"];
    private static readonly string[] SceneFields = ["id", "setting", "present", "policy", "max_turns", "max_silence", "recency_penalty", "addressed_boost", "stop_phrases", "narration", "interventions", "after"];
    private static readonly string[] InterventionFields = ["turn", "speaker", "text", "to"];

    private static readonly (string Name, PromptFormatChoice Format)[] PromptFormats =
        [("auto", PromptFormatChoice.Auto), ("script", PromptFormatChoice.Script), ("chat", PromptFormatChoice.Chat)];

    private static readonly (string Name, TurnPolicy Policy)[] Policies =
        [("round-robin", TurnPolicy.RoundRobin), ("addressed", TurnPolicy.Addressed), ("director", TurnPolicy.Director)];

    /// <summary>Reads and validates the scenario file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ScenarioValidationException">
    /// The file is larger than <see cref="MaxFileBytes"/>, not valid YAML or not a valid scenario.
    /// </exception>
    public static ScenarioDefinition Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Scenario file '{path}' does not exist.", path);
        }

        var size = new FileInfo(path).Length;
        if (size > MaxFileBytes)
        {
            // Read no more than it takes to show where the limit is passed.
            using var file = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            var start = new char[MaxFileBytes + 1];
            throw TooLarge(new string(start, 0, file.ReadBlock(start)), path, size);
        }

        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Validates the scenario in <paramref name="yaml"/>; <paramref name="fileName"/> is named in errors and,
    /// without its extension, is the scenario's name when the file gives none. Character cards (<c>card:</c>) are read
    /// relative to <paramref name="cardFolder"/>; without one (a scenario sent over the API), a card is an error.
    /// </summary>
    /// <exception cref="ScenarioValidationException">
    /// The text is larger than <see cref="MaxFileBytes"/> in UTF-8, not valid YAML or not a valid scenario.
    /// </exception>
    public static ScenarioDefinition Parse(string yaml, string fileName, string? cardFolder = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        var size = yaml.Length <= MaxFileBytes / 3 ? yaml.Length : Encoding.UTF8.GetByteCount(yaml);
        if (size > MaxFileBytes)
        {
            throw TooLarge(yaml, fileName, size);
        }

        var reader = new YamlFieldReader(fileName, yaml);
        var scenario = ReadYaml(yaml, reader) is { } root
            ? ReadScenario(root, Path.GetFileNameWithoutExtension(fileName), cardFolder, reader)
            : null;

        var errors = reader.Errors;
        if (errors.Count > 0 || scenario is null)
        {
            throw new ScenarioValidationException(errors);
        }

        return scenario;
    }

    /// <summary>The error for a scenario of <paramref name="size"/> bytes, at the first character past <see cref="MaxFileBytes"/>.</summary>
    private static ScenarioValidationException TooLarge(string text, string fileName, long size)
    {
        var index = 0;
        for (var bytes = 0; index < text.Length; index++)
        {
            // UTF-8 bytes, a surrogate pair's four counted as two for each half.
            bytes += text[index] switch { < '\u0080' => 1, < '\u0800' => 2, >= '\uD800' and <= '\uDFFF' => 2, _ => 3 };
            if (bytes > MaxFileBytes)
            {
                break;
            }
        }

        var at = TextPosition.Of(text, index);
        var message = string.Create(
            CultureInfo.InvariantCulture, $"the file is {size:N0} bytes, more than the {MaxFileBytes:N0} (1 MiB) a scenario may have; this is where it passes them");
        return new ScenarioValidationException([new ScenarioError(fileName, checked((int)at.Line), checked((int)at.Column), "", message)]);
    }

    /// <summary>A one-paragraph summary for people: characters, scenes, turns, replicas, model and sampling.</summary>
    public static string Describe(ScenarioDefinition scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);

        var characters = string.Join(", ", scenario.Characters.Select(c => $"{c.Name} ({c.Id})"));
        var scenes = string.Join("; ", scenario.Scenes.Select(DescribeScene));
        var turns = scenario.Scenes.Sum(s => s.MaxTurns);
        var sampling = scenario.Sampling;
        string[] sentences =
        [
            $"Scenario '{scenario.Name}': {Count(scenario.Characters.Count, "character")} ({characters});",
            $"{Count(scenario.Scenes.Count, "scene")} ({scenes});",
            $"up to {Count(turns, "turn")} a replica, {Count(scenario.Replicas, "replica")},",
            $"so up to {Count((long)turns * scenario.Replicas, "character line")} in all.",
            scenario.PromptFormat == PromptFormatChoice.Auto
                ? $"Model: {scenario.Model ?? "the default"}."
                : $"Model: {scenario.Model ?? "the default"}, {PromptFormats.First(f => f.Format == scenario.PromptFormat).Name} prompt format.",
            FormattableString.Invariant($"Sampling: temperature {sampling.Temperature}, top_p {sampling.TopP}, top_k {sampling.TopK},"),
            FormattableString.Invariant($"repetition penalty {sampling.RepetitionPenalty}, seed {sampling.Seed},"),
            $"at most {Count(sampling.MaxTokensPerLine, "token")} a line.",
        ];
        var text = string.Join(" ", sentences);
        if (scenario.WatchRoles is { Count: > 0 } watched)
        {
            text += $" Watching for: {string.Join(", ", watched)}.";
        }

        if (scenario.Memory == MemorySummary.Model)
        {
            text += " Memory: the model summarises the lines a context drops.";
        }

        if (scenario.Scenes.Any(s => s.After is { Count: > 0 }))
        {
            text += scenario.Carry switch
            {
                MemoryCarry.None => " Into a later scene, characters bring nothing of the earlier ones.",
                MemoryCarry.Summary => " Into a later scene, characters bring a summary of the earlier ones.",
                _ => " Into a later scene, characters bring the lines they witnessed in the earlier ones.",
            };
        }

        var forced = scenario.Characters.Where(c => c.PlayAs is not null).Select(c => $"{c.Name} plays {c.PlayAs!.Role} from turn {c.PlayAs.FromTurn}").ToList();
        return forced.Count > 0 ? $"{text} Forced takeovers: {string.Join("; ", forced)}." : text;
    }

    private static string DescribeScene(SceneDefinition scene)
    {
        var policy = Policies.First(p => p.Policy == scene.Policy).Name;
        var floor = TurnTaking.For(scene);
        var turnTaking = scene.Policy switch
        {
            TurnPolicy.Director => FormattableString.Invariant(
                $" (max silence {floor.MaxSilence}, recency penalty {floor.RecencyPenalty} nats, addressed boost {floor.AddressedBoost} nats)"),
            TurnPolicy.Addressed => FormattableString.Invariant($" (max silence {floor.MaxSilence})"),
            _ => "",
        };
        var interventions = scene.Interventions.Count == 0 ? "" : $", {Count(scene.Interventions.Count, "intervention")}";
        var after = scene.After is { Count: > 0 } before ? $", after {string.Join(", ", before)}" : "";
        return $"{scene.Id}: {string.Join(", ", scene.Present)}; {policy}{turnTaking}, up to {Count(scene.MaxTurns, "turn")}{interventions}{after}";
    }

    private static string Count(long count, string noun) =>
        count == 1 ? $"1 {noun}" : $"{count.ToString(CultureInfo.InvariantCulture)} {noun}s";

    private static YamlNode? ReadYaml(string yaml, YamlFieldReader reader)
    {
        var scanner = new Scanner(new StringReader(yaml));
        var stream = new YamlStream();
        try
        {
            stream.Load(new BoundedYamlParser(new Parser(scanner), MaxNesting, MaxYamlNodes));
        }
        catch (YamlLimitException e)
        {
            reader.Error(e.Start, "", e.Message);
            return null;
        }
        catch (YamlException e)
        {
            reader.Error(e.Start, "", $"invalid YAML: {MessageText.Yaml(e.Message)}");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16 throws this, not a YamlException, for some unclosed flow collections.
            reader.Error(scanner.CurrentPosition, "", "invalid YAML: is a '[' or '{' before this point left unclosed?");
            return null;
        }
        catch (ArgumentOutOfRangeException)
        {
            // YamlDotNet 16 converts "\UFFFFFFFF" or a low surrogate escape before a high one ("\uDC00\uD800") without checking.
            reader.Error(scanner.CurrentPosition, "", "invalid YAML: an escape sequence (\\u or \\U) before this point names no Unicode character");
            return null;
        }
        catch (ArgumentException)
        {
            // YamlDotNet's loader checks the events it is given this way; BoundedYamlParser reports the cases known to reach it.
            reader.Error(scanner.CurrentPosition, "", "invalid YAML: the structure before this point cannot be read");
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            reader.Error(new Mark(0, 1, 1), "", "the file is empty");
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            reader.Error(stream.Documents[1].RootNode, "", "a scenario file holds one YAML document; remove the second '---'");
        }

        return stream.Documents[0].RootNode;
    }

    private static ScenarioDefinition? ReadScenario(YamlNode root, string defaultName, string? cardFolder, YamlFieldReader reader)
    {
        if (reader.Mapping(root, "", ScenarioFields) is not { } top)
        {
            return null;
        }

        var name = reader.OptionalName(top, "name") ?? defaultName;
        var model = reader.OptionalString(top, "model");
        var promptFormat = reader.Choice(top, "prompt_format", PromptFormats, PromptFormatChoice.Auto, "prompt format", "prompt formats") ?? PromptFormatChoice.Auto;
        var memoryFields = top.Value("memory") is { } memoryNode ? reader.Mapping(memoryNode, "memory", MemoryFields) : null;
        var memory = memoryFields is null ? MemorySummary.None : reader.Choice(memoryFields, "summary", MemorySummaries, MemorySummary.None, "memory summary", "summaries") ?? MemorySummary.None;
        var carry = memoryFields is null ? MemoryCarry.Lines : reader.Choice(memoryFields, "carry", MemoryCarries, MemoryCarry.Lines, "memory carry", "carries") ?? MemoryCarry.Lines;
        var replicas = reader.Integer(top, "replicas", 1, 100_000) ?? 1;
        var watchRoles = reader.StringItems(top, "watch_roles").Select(r => r.Value).ToArray();
        var sampling = top.Value("sampling") is { } node && reader.Mapping(node, "sampling", SamplingFields) is { } fields
            ? ReadSampling(fields, reader)
            : new SamplingSettings();
        var forcedTurns = new List<ForcedTurn>();
        var characters = ReadCharacters(top, cardFolder, forcedTurns, reader, out var cardUnread);

        // A card that could not be read leaves its character's id unknown; scenes naming it would only add noise.
        var scenes = ReadScenes(top, cardUnread ? null : characters?.Select(c => c.Id).Where(id => id.Length > 0).Distinct().ToArray(), reader);
        CheckForcedTurns(forcedTurns, scenes, reader);
        return new ScenarioDefinition(name, characters ?? [], scenes, sampling, replicas, model, watchRoles, promptFormat, memory, carry);
    }

    private static SamplingSettings ReadSampling(YamlFields map, YamlFieldReader reader)
    {
        var defaults = new SamplingSettings();
        return new SamplingSettings(
            Temperature: reader.Number(map, "temperature", t => t is >= 0 and <= 5, "from 0 to 5") ?? defaults.Temperature,
            TopP: reader.Number(map, "top_p", p => p is > 0 and <= 1, "greater than 0 and at most 1") ?? defaults.TopP,
            TopK: reader.Integer(map, "top_k", min: 0) ?? defaults.TopK,
            RepetitionPenalty: reader.Number(map, "repetition_penalty", r => r > 0, "greater than 0") ?? defaults.RepetitionPenalty,
            Seed: reader.Long(map, "seed") ?? defaults.Seed,
            MaxTokensPerLine: reader.Integer(map, "max_tokens_per_line", 1, 1024) ?? defaults.MaxTokensPerLine);
    }

    /// <summary>
    /// The characters; null when the list itself is missing or unreadable (then scenes are not checked against it).
    /// <paramref name="cardUnread"/> says whether a character's card could not be read (nor then its id).
    /// </summary>
    private static List<PersonaCard>? ReadCharacters(
        YamlFields top, string? cardFolder, List<ForcedTurn> forcedTurns, YamlFieldReader reader, out bool cardUnread)
    {
        cardUnread = false;
        if (reader.Sequence(top, "characters", "a scenario needs at least one character") is not { } items)
        {
            return null;
        }

        var characters = new List<PersonaCard>(items.Count);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var names = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"characters[{i}]";
            if (reader.Mapping(items[i], path, CharacterFields) is not { } map)
            {
                continue;
            }

            // With a card, the YAML's fields override the card's; a card that failed to load adds no "missing" errors.
            var hasCard = map.Value("card") is not null;
            var card = hasCard ? ReadCard(map, cardFolder, reader) : null;
            cardUnread |= hasCard && card is null;
            var id = hasCard && map.Value("id") is null ? card?.Id ?? (card is null ? "" : CharacterCard.Slug(card.Name) ?? $"character-{i + 1}") : reader.RequiredId(map, "id");
            var name = hasCard && map.Value("name") is null ? card?.Name ?? "" : reader.RequiredName(map, "name");
            var role = hasCard && map.Value("role") is null ? card?.Role ?? "" : reader.RequiredString(map, "role");
            if (card is not null && role.Length == 0 && map.Value("role") is null)
            {
                reader.Error(map.Value("card")!, map.Path("card"), $"card {MessageText.Quote(reader.OptionalString(map, "card") ?? "")} has no description; give the character a role");
            }

            CheckUnique(map, "id", id, ids, "character id", reader);
            CheckUnique(map, "name", name, names, "character name", reader);
            characters.Add(new PersonaCard(
                id,
                name,
                role,
                card is not null && map.Value("goals") is null ? card.Goals : [.. reader.StringItems(map, "goals").Select(g => g.Value)],
                card is not null && map.Value("private_knowledge") is null
                    ? card.PrivateKnowledge
                    : [.. reader.StringItems(map, "private_knowledge").Select(k => k.Value)],
                reader.OptionalString(map, "speaking_style") ?? card?.SpeakingStyle ?? "",
                ReadPlayAs(map, id, role, forcedTurns, reader)));
        }

        return characters;
    }

    /// <summary>The character card a character's <c>card</c> names, relative to the scenario's folder; null (and an error at the field) when it cannot be read.</summary>
    private static ImportedCard? ReadCard(YamlFields character, string? cardFolder, YamlFieldReader reader)
    {
        var node = character.Value("card")!;
        if (reader.OptionalString(character, "card") is not { } file)
        {
            return null;
        }

        if (cardFolder is null)
        {
            reader.Error(node, character.Path("card"), $"card {MessageText.Quote(file)} cannot be read: this scenario was given without a folder (only a scenario file read from disk may name cards)");
            return null;
        }

        try
        {
            return CharacterCard.Load(Path.Combine(cardFolder, file), file);
        }
        catch (CharacterCardException e)
        {
            reader.Error(node, character.Path("card"), e.Message);
            return null;
        }
    }

    /// <summary>A character's forced takeover (<c>play_as</c>), or null; an explicit <c>from_turn</c> is kept to check against the scenes.</summary>
    private static ForcedRole? ReadPlayAs(YamlFields character, string id, string ownRole, List<ForcedTurn> forcedTurns, YamlFieldReader reader)
    {
        if (character.Value("play_as") is not { } node || reader.Mapping(node, character.Path("play_as"), PlayAsFields) is not { } map)
        {
            return null;
        }

        var role = reader.RequiredString(map, "role");
        if (role.Length > 0 && string.Equals(role, ownRole, StringComparison.OrdinalIgnoreCase) && map.Value("role") is { } roleNode)
        {
            reader.Error(roleNode, map.Path("role"), "is the character's own role; play_as forces another one");
        }

        var fromTurn = reader.Integer(map, "from_turn", min: 0);
        if (fromTurn is { } turn && map.Value("from_turn") is { } turnNode)
        {
            forcedTurns.Add(new ForcedTurn(id, turn, turnNode, map.Path("from_turn")));
        }

        return role.Length > 0 ? new ForcedRole(role, fromTurn ?? 0) : null;
    }

    /// <summary>A forced role that starts after every scene its character plays in has ended would never speak.</summary>
    private static void CheckForcedTurns(List<ForcedTurn> forcedTurns, List<SceneDefinition> scenes, YamlFieldReader reader)
    {
        var longestScene = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var scene in scenes)
        {
            foreach (var id in scene.Present)
            {
                longestScene[id] = Math.Max(longestScene.GetValueOrDefault(id), scene.MaxTurns);
            }
        }

        foreach (var forced in forcedTurns)
        {
            if (longestScene.TryGetValue(forced.CharacterId, out var longest) && forced.Turn >= longest)
            {
                reader.Error(forced.Node, forced.Field, $"must be less than the max_turns of a scene {MessageText.Quote(forced.CharacterId)} plays in ({longest}), got {forced.Turn}");
            }
        }
    }

    private static List<SceneDefinition> ReadScenes(YamlFields top, IReadOnlyList<string>? characterIds, YamlFieldReader reader)
    {
        var knownIds = characterIds?.ToHashSet(StringComparer.Ordinal);
        var scenes = new List<SceneDefinition>();

        // Scene ids name transcript files, which must not differ only in case on macOS or Windows.
        var ids = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        var afters = new List<IReadOnlyList<TextItem>?>();
        var places = new List<YamlNode>();
        var items = reader.Sequence(top, "scenes", "a scenario needs at least one scene") ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"scenes[{i}]";
            if (reader.Mapping(items[i], path, SceneFields) is not { } map)
            {
                continue;
            }

            afters.Add(map.Value("after") is null ? null : reader.StringItems(map, "after"));
            places.Add(map.Value("after") ?? items[i]);

            var id = reader.OptionalId(map, "id") ?? $"scene-{i + 1}";
            CheckUnique(map, "id", id, ids, "scene id", reader);
            var setting = reader.RequiredString(map, "setting");
            var present = ReadPresent(map, characterIds, knownIds, reader);
            var policy = reader.Choice(map, "policy", Policies, TurnPolicy.RoundRobin, "policy", "policies");

            // An invalid max_turns is already reported; checking interventions against a stand-in would only add noise.
            var maxTurns = reader.Integer(map, "max_turns", 1, 10_000);
            var maxTurnsKnown = maxTurns is not null || map.Value("max_turns") is null;
            var turns = maxTurns ?? DefaultMaxTurns;
            var (maxSilence, recencyPenalty, addressedBoost) = ReadTurnTaking(map, policy, reader);

            scenes.Add(new SceneDefinition(
                id,
                setting,
                present,
                policy ?? TurnPolicy.RoundRobin,
                turns,
                [.. reader.StringItems(map, "stop_phrases").Select(p => p.Value)],
                [.. reader.StringItems(map, "narration").Select(n => n.Value)],
                ReadInterventions(map, id, present, maxTurnsKnown ? turns : null, reader),
                maxSilence,
                recencyPenalty,
                addressedBoost));
        }

        return ResolveAfter(scenes, afters, places, reader);
    }

    /// <summary>
    /// Every scene with the scenes it comes after (<see cref="SceneDefinition.After"/>): those its <c>after</c> names, or
    /// without one, for each character in it, the nearest earlier scene that character is in (none: it starts with the
    /// run). Unknown ids, a scene after itself and cycles are errors; so are two scenes with a character in common that
    /// could play at once (a character is one grain through its story, in one scene at a time), reported at the
    /// <c>after</c> (or the scene) of the later one.
    /// </summary>
    private static List<SceneDefinition> ResolveAfter(List<SceneDefinition> scenes, List<IReadOnlyList<TextItem>?> afters, List<YamlNode> places, YamlFieldReader reader)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < scenes.Count; i++)
        {
            index.TryAdd(scenes[i].Id, i);
        }

        // Each edge: the scene it comes after, and the item that named it (null for the default).
        var edges = new List<List<(int Scene, TextItem? Item)>>(scenes.Count);
        var wrong = false;
        for (var i = 0; i < scenes.Count; i++)
        {
            var after = new List<(int, TextItem?)>();
            if (afters[i] is { } named)
            {
                foreach (var item in named)
                {
                    wrong |= !index.ContainsKey(item.Value) || index[item.Value] == i || after.Any(e => e.Item1 == index[item.Value]);
                    if (!index.TryGetValue(item.Value, out var before))
                    {
                        reader.Error(item.Node, item.Field, $"unknown scene {MessageText.Quote(item.Value)} (scenes: {MessageText.List([.. scenes.Select(s => s.Id)])})");
                    }
                    else if (before == i)
                    {
                        reader.Error(item.Node, item.Field, $"scene {MessageText.Quote(item.Value)} cannot come after itself");
                    }
                    else if (after.Any(e => e.Item1 == before))
                    {
                        reader.Error(item.Node, item.Field, $"{MessageText.Quote(item.Value)} is listed twice");
                    }
                    else
                    {
                        after.Add((before, item));
                    }
                }
            }
            else
            {
                foreach (var character in scenes[i].Present.Distinct(StringComparer.Ordinal))
                {
                    for (var j = i - 1; j >= 0; j--)
                    {
                        if (scenes[j].Present.Contains(character, StringComparer.Ordinal))
                        {
                            if (!after.Any(e => e.Item1 == j))
                            {
                                after.Add((j, null));
                            }

                            break;
                        }
                    }
                }

                // Only the nearest: one that another of them comes after already is implied.
                after.RemoveAll(e => after.Any(other => other.Item1 != e.Item1 && ComesAfter(other.Item1, e.Item1, edges)));
                after.Sort((a, b) => a.Item1.CompareTo(b.Item1));
            }

            edges.Add(after);
        }

        if (!ReportCycles(scenes, edges, reader) && !wrong)
        {
            ReportOverlaps(scenes, edges, places, reader);
        }

        return [.. scenes.Select((scene, i) => scene with { After = [.. edges[i].Select(e => scenes[e.Scene].Id)] })];
    }

    /// <summary>
    /// One error for each pair of scenes with a character in common where neither comes after the other (directly or
    /// through others), so that they could play at once: at the later one's <c>after</c> (or, without one, the scene).
    /// Run only without cycles: the scenes are then in an order where every scene comes after those it names.
    /// </summary>
    private static void ReportOverlaps(List<SceneDefinition> scenes, List<List<(int Scene, TextItem? Item)>> edges, List<YamlNode> places, YamlFieldReader reader)
    {
        var reported = new HashSet<(int, int)>();
        var characters = scenes.SelectMany(s => s.Present).Distinct(StringComparer.Ordinal);
        var depths = Depths(edges);
        foreach (var character in characters)
        {
            var playing = Enumerable.Range(0, scenes.Count).Where(i => scenes[i].Present.Contains(character, StringComparer.Ordinal)).ToList();

            // Each scene with the character must come after one other scene with it, and all but one must be comparable:
            // checked pairwise along an order that follows every edge, it is a chain when each comes after the one before.
            var order = playing.OrderBy(i => depths[i]).ThenBy(i => i).ToList();
            for (var k = 1; k < order.Count; k++)
            {
                var (earlier, later) = (order[k - 1], order[k]);
                if (!ComesAfter(later, earlier, edges) && reported.Add((Math.Min(earlier, later), Math.Max(earlier, later))))
                {
                    var (first, second) = earlier < later ? (earlier, later) : (later, earlier);
                    reader.Error(
                        places[second],
                        $"scenes[{second}].after",
                        $"character {MessageText.Quote(character)} is in scenes {MessageText.Quote(scenes[first].Id)} and {MessageText.Quote(scenes[second].Id)}, which could play at once; "
                        + $"a character plays one scene at a time: put {MessageText.Quote(scenes[first].Id)} in the after of {MessageText.Quote(scenes[second].Id)}");
                }
            }
        }
    }

    /// <summary>For every scene, the longest chain of <c>after</c> below it (0: it starts with the run). Needs no cycles.</summary>
    private static int[] Depths(List<List<(int Scene, TextItem? Item)>> edges)
    {
        var depths = Enumerable.Repeat(-1, edges.Count).ToArray();
        var stack = new Stack<(int Scene, bool Expanded)>();
        for (var scene = 0; scene < edges.Count; scene++)
        {
            stack.Push((scene, false));
            while (stack.Count > 0)
            {
                var (at, expanded) = stack.Pop();
                if (depths[at] >= 0)
                {
                    continue;
                }

                if (expanded)
                {
                    depths[at] = edges[at].Count == 0 ? 0 : edges[at].Max(e => depths[e.Scene]) + 1;
                    continue;
                }

                stack.Push((at, true));
                foreach (var (before, _) in edges[at])
                {
                    if (depths[before] < 0)
                    {
                        stack.Push((before, false));
                    }
                }
            }
        }

        return depths;
    }

    /// <summary>Whether scene <paramref name="later"/> comes after <paramref name="earlier"/>, directly or through others.</summary>
    private static bool ComesAfter(int later, int earlier, List<List<(int Scene, TextItem? Item)>> edges)
    {
        var seen = new HashSet<int> { later };
        var queue = new Queue<int>([later]);
        while (queue.Count > 0)
        {
            foreach (var (before, _) in edges[queue.Dequeue()])
            {
                if (before == earlier)
                {
                    return true;
                }

                if (seen.Add(before))
                {
                    queue.Enqueue(before);
                }
            }
        }

        return false;
    }

    /// <summary>
    /// One error for every cycle of <c>after</c>, naming its scenes in order, at the first item of a scene's <c>after</c>
    /// in it (a default only ever points to an earlier scene, so every cycle has one).
    /// </summary>
    private static bool ReportCycles(List<SceneDefinition> scenes, List<List<(int Scene, TextItem? Item)>> edges, YamlFieldReader reader)
    {
        var found = false;
        // 0: not visited, 1: on the current path, 2: done. Iterative: a long chain of scenes must not overflow the stack.
        var marks = new int[scenes.Count];
        var path = new List<(int Scene, int Next)>();
        for (var root = 0; root < scenes.Count; root++)
        {
            if (marks[root] != 0)
            {
                continue;
            }

            marks[root] = 1;
            path.Add((root, 0));
            while (path.Count > 0)
            {
                var (scene, next) = path[^1];
                if (next == edges[scene].Count)
                {
                    marks[scene] = 2;
                    path.RemoveAt(path.Count - 1);
                    continue;
                }

                path[^1] = (scene, next + 1);
                var target = edges[scene][next].Scene;
                if (marks[target] == 0)
                {
                    marks[target] = 1;
                    path.Add((target, 0));
                }
                else if (marks[target] == 1)
                {
                    // The edge each scene on the cycle took is the one before its Next.
                    found = true;
                    var cycle = path.Skip(path.FindIndex(p => p.Scene == target)).ToList();
                    var names = cycle.Select(p => MessageText.Quote(scenes[p.Scene].Id)).Append(MessageText.Quote(scenes[target].Id));
                    if (cycle.Select(p => edges[p.Scene][p.Next - 1].Item).FirstOrDefault(i => i is not null) is { } at)
                    {
                        reader.Error(at.Node, at.Field, $"the scenes come after each other in a cycle: {string.Join(" after ", names)}");
                    }
                }
            }
        }

        return found;
    }

    /// <summary>
    /// A scene's turn-taking settings (null where not given: the defaults). A setting its policy ignores is an error, so
    /// that nobody tunes a number that changes nothing (round-robin never leaves anyone silent longer than the cast size).
    /// </summary>
    private static (int? MaxSilence, float? RecencyPenalty, float? AddressedBoost) ReadTurnTaking(YamlFields scene, TurnPolicy? policy, YamlFieldReader reader)
    {
        var maxSilence = reader.Integer(scene, "max_silence", min: 1);
        var recencyPenalty = reader.Number(scene, "recency_penalty", w => w >= 0, "at least 0 (nats)");
        var addressedBoost = reader.Number(scene, "addressed_boost", w => w >= 0, "at least 0 (nats)");

        // An unknown policy is already reported; judging its fields against a stand-in would only add noise.
        if (policy == TurnPolicy.RoundRobin)
        {
            OnlyFor(scene, "max_silence", TurnPolicy.RoundRobin, "addressed and director", reader);
        }

        if (policy is { } known && known != TurnPolicy.Director)
        {
            OnlyFor(scene, "recency_penalty", known, "director", reader);
            OnlyFor(scene, "addressed_boost", known, "director", reader);
        }

        return (maxSilence, recencyPenalty, addressedBoost);
    }

    private static void OnlyFor(YamlFields scene, string key, TurnPolicy policy, string usedBy, YamlFieldReader reader)
    {
        if (scene.Value(key) is { } node)
        {
            var name = Policies.First(p => p.Policy == policy).Name;
            reader.Error(node, scene.Path(key), $"is not used by policy '{name}' (only by {usedBy})");
        }
    }

    /// <summary>A scene's present character ids; <paramref name="knownIds"/> holds <paramref name="characterIds"/> (which name them in errors), null when unknown.</summary>
    private static List<string> ReadPresent(YamlFields scene, IReadOnlyList<string>? characterIds, HashSet<string>? knownIds, YamlFieldReader reader)
    {
        var present = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in reader.StringItems(scene, "present", "a scene needs at least one character present"))
        {
            if (characterIds is not null && knownIds is not null && !knownIds.Contains(item.Value))
            {
                reader.Error(item.Node, item.Field, $"unknown character {MessageText.Quote(item.Value)} (characters: {MessageText.List(characterIds)})");
            }
            else if (!seen.Add(item.Value))
            {
                reader.Error(item.Node, item.Field, $"{MessageText.Quote(item.Value)} is listed twice");
            }
            else
            {
                present.Add(item.Value);
            }
        }

        return present;
    }

    private static List<InterventionDefinition> ReadInterventions(
        YamlFields scene, string sceneId, IReadOnlyList<string> present, int? maxTurns, YamlFieldReader reader)
    {
        var interventions = new List<InterventionDefinition>();
        var presentIds = present.ToHashSet(StringComparer.Ordinal);
        var items = reader.Sequence(scene, "interventions") ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            if (reader.Mapping(items[i], scene.Path($"interventions[{i}]"), InterventionFields) is not { } map)
            {
                continue;
            }

            var turn = reader.Required(map, "turn") ? reader.Integer(map, "turn", min: 0) : null;
            if (turn >= maxTurns && map.Value("turn") is { } turnNode)
            {
                reader.Error(turnNode, map.Path("turn"), $"must be less than the scene's max_turns ({maxTurns}), got {turn}");
            }

            var to = reader.OptionalString(map, "to");
            if (to is not null && !presentIds.Contains(to) && map.Value("to") is { } toNode)
            {
                reader.Error(toNode, map.Path("to"), $"{MessageText.Quote(to)} is not present in scene {MessageText.Quote(sceneId)} (present: {MessageText.List(present)})");
            }

            interventions.Add(new InterventionDefinition(
                turn ?? 0,
                reader.OptionalName(map, "speaker") ?? DefaultSpeaker,
                reader.RequiredString(map, "text"),
                to));
        }

        return interventions;
    }

    private static void CheckUnique(
        YamlFields map, string key, string value, Dictionary<string, long> seen, string what, YamlFieldReader reader)
    {
        // A value taken from a character card is reported at the card field.
        if (value.Length == 0 || (map.Value(key) ?? map.Value("card")) is not { } node)
        {
            return;
        }

        if (!seen.TryAdd(value, node.Start.Line))
        {
            reader.Error(node, map.Value(key) is null ? map.Path("card") : map.Path(key), $"duplicate {what} {MessageText.Quote(value)} (first on line {seen[value]})");
        }
    }
}

/// <summary>Where a character's <c>play_as.from_turn</c> was written, to check it once the scenes are read.</summary>
internal sealed record ForcedTurn(string CharacterId, int Turn, YamlNode Node, string Field);
