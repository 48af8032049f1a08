using System.CommandLine;
using System.Globalization;
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
        return command;
    }

    /// <summary>The synthetic model cached for <paramref name="shape"/>/<paramref name="type"/>, written on first use.</summary>
    public static string EnsureSynthetic(string shape, string type, int seed = 1234)
    {
        var parsedShape = SyntheticModelShape.Parse(shape);
        var parsedType = GgmlTypeInfo.Parse(type);
        var folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "agent-theater", "models");
        var path = Path.Combine(folder, $"synthetic-{parsedShape.Name}-{type.ToLowerInvariant()}-{seed}.gguf");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"Writing synthetic {parsedShape.Name} ({type}) model to {path}");
            SyntheticModel.Write(path, parsedShape, parsedType, seed, ConsoleProgress());
            Console.Error.WriteLine();
        }

        return path;
    }

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
            SyntheticModel.Write(path, parsedShape, parsedType, result.GetValue(seed), ConsoleProgress());
            Console.Error.WriteLine();
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
            using var model = LlamaModel.Load(path);
            Console.WriteLine($"llama.cpp:      {model.Description}, {model.ParameterCount.ToString("N0", c)} parameters, {LlamaLibrary.Info!.Backend}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static PercentProgress ConsoleProgress() => new();

    /// <summary>Prints a percentage on one stderr line, synchronously and only forward (Progress&lt;T&gt; posts out of order).</summary>
    private sealed class PercentProgress : IProgress<double>
    {
        private int _last = -1;

        public void Report(double value)
        {
            var percent = (int)(value * 100);
            if (percent > _last)
            {
                _last = percent;
                Console.Error.Write(percent >= 100 ? $"\r  {percent,3}%\n" : $"\r  {percent,3}%");
            }
        }
    }
}
