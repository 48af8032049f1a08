using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Client.Hosting;
using AgentTheater.Client.Progress;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater model generate</c>: completes every prompt of a JSONL file through the inference pool, all batched
/// together, and writes the completions as JSONL (in input order). Model evaluations (tools/model/evaluate.py) use it.
/// </summary>
internal static class ModelGenerateCommand
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "GGUF model", Required = true };
        var prompts = new Option<string>("--prompts") { Description = "JSONL: {\"id\", \"prompt\", \"max_tokens\"?, \"temperature\"?, \"seed\"?, \"stop\"?: [..]}", Required = true };
        var output = new Option<string>("--out") { Description = "JSONL to write: {\"id\", \"text\", \"tokens\", \"prompt_tokens\"}", Required = true };
        var sequences = new Option<int>("--sequences") { Description = "Sequences decoded together", DefaultValueFactory = _ => 64 };
        var context = new Option<int>("--context") { Description = "Tokens per sequence", DefaultValueFactory = _ => 1024 };
        var command = new Command("generate", "Complete each prompt of a JSONL file through the pool (batched) and write the completions.")
        {
            model, prompts, output, sequences, context,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var inputPath = result.GetValue(prompts)!;
            var requests = ReadPrompts(inputPath);
            using var loggers = CommandLogging.LlamaErrorsOnly();
            LlamaLibrary.Initialize(logger: loggers.CreateLogger("llama.cpp"));
            await using var pool = new InferencePool(
                new InferencePoolOptions
                {
                    ModelPath = result.GetValue(model)!,
                    MaxSequences = result.GetValue(sequences),
                    SequenceContextLength = result.GetValue(context),
                    WaitWhenBusy = true,
                },
                loggers);
            var completions = await ConsoleProgress.ShowAsync(async progress =>
            {
                var done = 0;
                var gate = new Lock();
                return await Task.WhenAll(requests.Select(async r =>
                {
                    var generated = await pool.GenerateAsync(
                        new GenerationRequest
                        {
                            Prompt = r.Prompt,
                            MaxTokens = r.MaxTokens ?? 64,
                            StopStrings = r.Stop ?? ["\n"],
                            Sampling = new SamplingOptions { Temperature = r.Temperature ?? 0f, Seed = r.Seed ?? 1 },
                        },
                        cancellationToken);
                    lock (gate)
                    {
                        done++;
                        progress.Report(new ProgressUpdate(done, requests.Count, $"{done:N0}/{requests.Count:N0} completions"));
                    }

                    return new Completion(r.Id, generated.Text, generated.Tokens.Count, generated.PromptTokens);
                }));
            });
            var path = result.GetValue(output)!;
            await using (var writer = new StreamWriter(path + ".partial"))
            {
                foreach (var completion in completions)
                {
                    await writer.WriteLineAsync(JsonSerializer.Serialize(completion, Json));
                }
            }

            File.Move(path + ".partial", path, overwrite: true);
            Console.WriteLine($"{completions.Length} completions written to {path} ({pool.Statistics.GeneratedTokens.ToString("N0", CultureInfo.InvariantCulture)} tokens generated)");
            return 0;
        }));
        return command;
    }

    private static List<PromptLine> ReadPrompts(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Prompts file not found: {path}", path);
        }

        var list = new List<PromptLine>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            PromptLine? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize<PromptLine>(line);
            }
            catch (JsonException e)
            {
                throw new FormatException($"{path}:{number}: not a JSON object ({e.Message})", e);
            }

            if (parsed?.Prompt is null || parsed.Id is null)
            {
                throw new FormatException($"{path}:{number}: each line needs \"id\" and \"prompt\".");
            }

            list.Add(parsed);
        }

        return list;
    }

    private sealed record PromptLine(
        [property: JsonPropertyName("id")] string? Id,
        [property: JsonPropertyName("prompt")] string? Prompt,
        [property: JsonPropertyName("max_tokens")] int? MaxTokens,
        [property: JsonPropertyName("temperature")] float? Temperature,
        [property: JsonPropertyName("seed")] uint? Seed,
        [property: JsonPropertyName("stop")] IReadOnlyList<string>? Stop);

    private sealed record Completion(
        [property: JsonPropertyName("id")] string? Id,
        [property: JsonPropertyName("text")] string Text,
        [property: JsonPropertyName("tokens")] int Tokens,
        [property: JsonPropertyName("prompt_tokens")] int PromptTokens);
}
