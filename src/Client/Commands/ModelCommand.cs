using System.CommandLine;
using System.Globalization;
using AgentTheater.Client.Progress;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater model synth|info</c>.</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var command = new Command("model", "Write synthetic models and inspect GGUF files.");
        command.Subcommands.Add(CreateSynth());
        command.Subcommands.Add(CreateInfo());
        command.Subcommands.Add(CreatePack());
        command.Subcommands.Add(ModelGenerateCommand.Create());
        return command;
    }

    /// <summary>How the project's model reads its prompts (written into the GGUF as agent_theater.prompt_format).</summary>
    public const string PromptFormat =
        "One character's view of a scene, as AgentTheater's character grains write it (DialoguePrompt):\n"
        + "[Character] Name, role\n[Goals] goal; goal\n[Secret] private knowledge\n[Style] speaking style\n[Present] Other, Names\n"
        + "[Scene] setting\n\nSpeaker: line\nUser (whispering to you): line\nName:\n"
        + "The model continues after \"Name:\" with one line; stop at \"\\n\" or at another speaker's \"Other:\". "
        + "[Goals], [Secret], [Style] and [Present] are optional.";

    private static Command CreateSynth()
    {
        var shape = new Option<string>("--shape") { Description = "tiny, small, llama3-1b or llama3-8b", DefaultValueFactory = _ => "tiny" };
        var type = new Option<string>("--qtype") { Description = "f32, f16, q8_0 or q4_0", DefaultValueFactory = _ => "q8_0" };
        var output = new Option<string>("--out") { Description = "File to write", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1234 };
        var command = new Command("synth", "Write a llama-architecture GGUF with random weights and a small SentencePiece-style vocabulary.")
        {
            shape, type, output, seed,
        };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var parsedShape = SyntheticModelShape.Parse(result.GetValue(shape)!);
            var parsedType = GgmlTypeInfo.Parse(result.GetValue(type)!);
            var path = result.GetValue(output)!;
            ConsoleProgress.Show(progress => SyntheticModel.Write(path, parsedShape, parsedType, result.GetValue(seed), new PercentProgress(progress, "written")));
            Console.WriteLine($"{path}: {new FileInfo(path).Length / 1048576.0:F1} MiB, {parsedShape.Name}, {parsedType}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command CreateInfo()
    {
        var file = new Argument<string>("file") { Description = "A GGUF model" };
        var command = new Command("info", "Print a model's architecture, size, vocabulary and context.") { file };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var path = result.GetValue(file)!;
            var header = GgufFile.Read(path);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine($"file:           {path}");
            Console.WriteLine($"size:           {header.FileSize / 1048576.0:F1} MiB");
            Console.WriteLine($"architecture:   {header.Architecture ?? "(none)"}");
            Console.WriteLine($"name:           {header.GetString("general.name") ?? "(none)"}");
            Console.WriteLine($"tensors:        {header.Tensors.Count}");
            Console.WriteLine($"types:          {string.Join(", ", header.Tensors.GroupBy(t => t.Type).Select(g => $"{g.Key} x{g.Count()}"))}");
            Console.WriteLine($"parameters:     {header.Tensors.Sum(t => t.ElementCount).ToString("N0", c)}");
            Console.WriteLine($"layers:         {header.GetArchInteger("block_count")}");
            Console.WriteLine($"embedding:      {header.GetArchInteger("embedding_length")}");
            Console.WriteLine($"heads:          {header.GetArchInteger("attention.head_count")} (kv {header.GetArchInteger("attention.head_count_kv")})");
            Console.WriteLine($"context:        {header.GetArchInteger("context_length")}");
            var tokens = header.Metadata.TryGetValue("tokenizer.ggml.tokens", out var t) && t is object[] list ? list.Length : 0;
            Console.WriteLine($"vocabulary:     {tokens} ({header.GetString("tokenizer.ggml.model") ?? "?"})");
            Console.WriteLine($"chat template:  {(header.GetString("tokenizer.chat_template") is { } template ? template.Length + " chars" : "(none)")}");
            if (header.GetString("general.description") is { } description)
            {
                Console.WriteLine($"description:    {description}");
            }

            if (header.GetString("agent_theater.prompt_format") is { } format)
            {
                Console.WriteLine($"prompt format:  {format.ReplaceLineEndings(" | ")}");
            }

            if (header.GetString("agent_theater.training") is { } training)
            {
                Console.WriteLine($"training:       {training}");
            }
            using var model = LlamaModel.Load(path);
            Console.WriteLine($"llama.cpp:      {model.Description}, {model.ParameterCount.ToString("N0", c)} parameters, {LlamaLibrary.Info!.Backend}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command CreatePack()
    {
        var folder = new Argument<string>("folder") { Description = "The trainer's output: config.json, tokenizer.json, model.safetensors (training.json and card.md if present)" };
        var output = new Option<string>("--out") { Description = "GGUF file to write", Required = true };
        var type = new Option<string>("--qtype") { Description = "Matrix type: q8_0, f16 or f32", DefaultValueFactory = _ => "q8_0" };
        var name = new Option<string>("--name") { Description = "general.name", DefaultValueFactory = _ => "agent-theater-small" };
        var command = new Command("pack", "Write a model trained by tools/model/train.py as a llama-architecture GGUF (the repo's one GGUF writer).")
        {
            folder, output, type, name,
        };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var source = result.GetValue(folder)!;
            if (!Directory.Exists(source))
            {
                throw new DirectoryNotFoundException($"Trainer output folder not found: {source}");
            }

            var path = result.GetValue(output)!;
            var weightType = GgmlTypeInfo.Parse(result.GetValue(type)!);
            var cardPath = Path.Combine(source, "card.md");
            var trainingPath = Path.Combine(source, "training.json");
            var summary = File.Exists(trainingPath) ? TrainingSummary(File.ReadAllText(trainingPath)) : null;
            var modelName = result.GetValue(name)!;
            var card = new TrainedModelCard(
                modelName,
                ModelDescription,
                PromptFormat,
                File.Exists(cardPath) ? File.ReadAllText(cardPath) : DefaultCard(modelName, summary),
                summary);
            ConsoleProgress.Show(progress => TrainedModelPacker.Pack(source, path, card, weightType, new PercentProgress(progress, "packed")));
            using var model = LlamaModel.Load(path);
            Console.WriteLine($"{path}: {new FileInfo(path).Length / 1048576.0:F1} MiB, {weightType}, {model.Description}, "
                + $"{model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters");
            return Task.FromResult(0);
        }));
        return command;
    }

    private const string ModelDescription =
        "A small Llama-architecture role-play model trained from scratch on AgentTheater's synthetic scenes (tools/model): "
        + "persona styles, secrets, twenty questions and role takeovers, in the character grains' prompt format.";

    /// <summary>The model card written into the GGUF when the trainer's folder has no card.md.</summary>
    private static string DefaultCard(string name, string? trainingSummary) =>
        $"""
        # {name}

        {ModelDescription}

        - Trained by tools/model/build.sh (corpus.py, train.py) from a seed; packed by `agent-theater model pack`.
        - Tokenizer: SentencePiece-style (tokenizer.ggml.model "llama"), learned on the corpus; llama.cpp tokenizes
          exactly as the trainer did (tested).
        - Intended use: AgentTheater's embedded default, tests and demonstrations. It knows only the corpus's small
          world (its styles, roles, settings and the twenty-questions catalogue); for real scenes use an instruct
          model with `--model`.
        - Evaluation figures: models/README.md in the AgentTheater repository.
        - Training: {trainingSummary ?? "(no training.json)"}

        ## Prompt format
        {PromptFormat}
        """;

    /// <summary>The trainer's figures without the per-step log.</summary>
    private static string TrainingSummary(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("log");
        return node.ToJsonString();
    }
}
