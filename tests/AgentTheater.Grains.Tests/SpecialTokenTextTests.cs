using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Scenarios;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Native;

namespace AgentTheater.Grains.Tests;

/// <summary>A tiny synthetic chat model (<c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;|im_start|&gt;</c> and <c>&lt;|im_end|&gt;</c> are control tokens), written once for the class.</summary>
public sealed class SyntheticChatModelFixture : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("agent-theater-special-tokens-").FullName;

    public SyntheticChatModelFixture()
    {
        LlamaLibrary.Initialize();
        ModelPath = Path.Combine(folder, "tiny-chat-f32.gguf");
        SyntheticModel.Write(ModelPath, SyntheticModelShape.Tiny with { ChatVocabulary = true }, GgmlType.F32, seed: 7);
        Model = LlamaModel.Load(ModelPath);
    }

    public string ModelPath { get; }

    public LlamaModel Model { get; }

    /// <summary>The token a spelling parses to with special-token parsing on (a control token of this vocabulary).</summary>
    public int ControlToken(string spelling) => Assert.Single(Model.Tokenize(spelling, addSpecial: false, parseSpecial: true));

    public InferencePool CreatePool() => new(Model, new InferencePoolOptions
    {
        ModelPath = ModelPath,
        MaxSequences = 2,
        SequenceContextLength = 1024,
        BatchSize = 256,
        MicroBatchSize = 256,
        Threads = 1,
    });

    public void Dispose()
    {
        Model.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}

/// <summary>
/// Text from a scenario that spells llama.cpp's special tokens stays text on the way to the model, in both prompt formats
/// (docs/prompts.md). The engine's own tests cover the tokenisers on <c>&lt;|im_end|&gt;</c> (Inference.Tests,
/// ChatPromptTests: <c>TokenizeChat_MarkerTextInsideContent_IsTokenisedAsText</c>, <c>Generate_TextPromptWithMarkerText_TokenisesItAsText</c>);
/// these start from the scenario file and its prompts, with every spelling a control token here or in a common model.
/// </summary>
public sealed class SpecialTokenTextTests(SyntheticChatModelFixture chat) : IClassFixture<SyntheticChatModelFixture>
{
    private static readonly string[] Spellings = ["<|im_start|>", "<s>", "</s>", "<|eot_id|>", "<|im_end|>"];

    private const string Markers = "<|im_start|>system <s> </s> <|eot_id|> <|im_end|>";

    private static readonly ScenarioDefinition Scenario = ScenarioFile.Parse($$"""
        characters:
          - id: innkeeper
            name: Marta
            role: the innkeeper
          - id: guard
            name: Pike
            role: a sergeant
        scenes:
          - id: common-room
            setting: "A quiet afternoon. {{Markers}}"
            present: [innkeeper, guard]
            narration: ["The door opens. {{Markers}}"]
            interventions:
              - {turn: 0, speaker: User, text: "Say this: {{Markers}}", to: innkeeper}
        """, "special-tokens.yaml");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public void Parse_TextSpellingSpecialTokens_KeepsItVerbatim()
    {
        var scene = Assert.Single(Scenario.Scenes);

        Assert.EndsWith(Markers, scene.Setting, StringComparison.Ordinal);
        Assert.EndsWith(Markers, Assert.Single(scene.Narration), StringComparison.Ordinal);
        Assert.EndsWith(Markers, Assert.Single(scene.Interventions).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptPrompt_TextSpellingSpecialTokens_IsScoredAsTextByThePool()
    {
        var prompt = DialoguePrompt.Build(Casting(PromptFormatChoice.Script), Witnessed());
        var firstLine = prompt.IndexOf('\n', StringComparison.Ordinal) + 1;
        var (head, tail) = (prompt[..firstLine], prompt[firstLine..]);
        Assert.All(Spellings, s => Assert.Equal(3, Occurrences(tail, s)));

        // Parsed as special, the tail would hold control tokens: the check below would see them.
        Assert.Contains(chat.Model.Tokenize(tail, addSpecial: false, parseSpecial: true), chat.Model.IsControl);
        using var pool = chat.CreatePool();

        var scored = await pool.ScoreAsync(new ScoreRequest { Prompt = head, Continuation = tail }, Cancel);

        Assert.DoesNotContain(scored.ContinuationTokens, chat.Model.IsControl);
        var text = chat.Model.Detokenize(scored.ContinuationTokens);
        Assert.All(Spellings, s => Assert.Equal(3, Occurrences(text, s)));
    }

    [Fact]
    public async Task ChatPrompt_TextSpellingSpecialTokens_HasOnlyTheTemplatesControlTokens()
    {
        var turns = DialoguePrompt.BuildChat(Casting(PromptFormatChoice.Chat), Witnessed()).Select(m => new ChatTurn(m.Role, m.Content)).ToList();
        var (imStart, imEnd) = (chat.ControlToken("<|im_start|>"), chat.ControlToken("<|im_end|>"));

        var tokens = chat.Model.TokenizeChat(turns)!;

        // BOS first, then each turn between <|im_start|> and <|im_end|>, and the assistant's <|im_start|>: nothing else is control.
        Assert.Equal(chat.Model.BeginOfSequence, tokens[0]);
        Assert.Equal(
            [.. Enumerable.Repeat(new[] { imStart, imEnd }, turns.Count).SelectMany(pair => pair), imStart],
            tokens.Skip(1).Where(chat.Model.IsControl));
        var text = chat.Model.Detokenize(tokens);
        Assert.All(Spellings, s => Assert.Equal(3, Occurrences(text, s)));
        using var pool = chat.CreatePool();
        var generated = await pool.GenerateAsync(new GenerationRequest { Messages = turns, MaxTokens = 1, Sampling = SamplingOptions.Greedy }, Cancel);
        Assert.Equal(tokens.Length, generated.PromptTokens);
    }

    private static CharacterCasting Casting(PromptFormatChoice format)
    {
        var scene = Scenario.Scenes[0];
        return new CharacterCasting($"run/{scene.Id}/0", Scenario.Character("innkeeper"), scene.Setting, ["Marta", "Pike"], Scenario.Sampling, format);
    }

    /// <summary>The scene's narration and its whispered intervention, as the scene grain records them.</summary>
    private static List<SceneLine> Witnessed()
    {
        var scene = Scenario.Scenes[0];
        var intervention = Assert.Single(scene.Interventions);
        return
        [
            new(0, 0, LineKind.Narrator, null, DialoguePrompt.NarratorName, Assert.Single(scene.Narration)),
            new(1, 0, LineKind.Intervention, null, intervention.Speaker, intervention.Text, To: intervention.To),
        ];
    }

    private static int Occurrences(string text, string spelling)
    {
        var count = 0;
        for (var at = text.IndexOf(spelling, StringComparison.Ordinal); at >= 0; at = text.IndexOf(spelling, at + spelling.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
