using System.CommandLine;
using System.Globalization;
using System.Text;
using AgentTheater.Client.Hosting;
using AgentTheater.Inference.Benchmarks;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater bench inference</c>, and <c>bench scene</c> (<see cref="BenchSceneCommand"/>).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks (figures go to docs/performance.md).");
        command.Subcommands.Add(CreateInference());
        command.Subcommands.Add(BenchSceneCommand.Create());
        command.Subcommands.Add(BenchShiftCommand.Create());
        command.Subcommands.Add(BenchTheaterCommand.Create());
        return command;
    }

    private static Command CreateInference()
    {
        var model = new Option<string?>("--model") { Description = "GGUF model; default: a synthetic model of --shape/--qtype, written once into ~/.cache/agent-theater/models" };
        var shape = new Option<string>("--shape") { Description = "Synthetic shape when no --model: tiny, small, llama3-1b, llama3-8b", DefaultValueFactory = _ => "small" };
        var type = new Option<string>("--qtype") { Description = "Synthetic weight type when no --model: f32, f16, q8_0, q4_0", DefaultValueFactory = _ => "q8_0" };
        var parallel = new Option<string>("--parallel") { Description = "Concurrent sequences to measure, comma separated", DefaultValueFactory = _ => "1,8,32,64,128,256" };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens per sequence", DefaultValueFactory = _ => 512 };
        var generate = new Option<int>("--gen") { Description = "Generated tokens per sequence", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch") { Description = "n_batch (tokens per llama_decode)", DefaultValueFactory = _ => 2048 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: the cores this process may use)", DefaultValueFactory = _ => 0 };
        var raw = new Option<bool>("--raw") { Description = "Only drive llama_decode directly (the ceiling)" };
        var poolOnly = new Option<bool>("--pool") { Description = "Only measure through the pool" };
        var output = new Option<string?>("--out") { Description = "Also write the table as Markdown to this file" };
        var kv = new Option<string>("--kv") { Description = "KV cache layout: split (a buffer per sequence, the pool's default) or unified (one shared buffer)", DefaultValueFactory = _ => "split" };
        kv.AcceptOnlyFromAmong("split", "unified");
        var flash = new Option<string>("--flash-attention") { Description = "Flash attention: auto (the pool's choice: on a GPU only), on or off", DefaultValueFactory = _ => "auto" };
        flash.AcceptOnlyFromAmong("auto", "on", "off");
        var command = new Command("inference", "Prompt and decode throughput through the InferencePool and straight llama_decode, side by side.")
        {
            model, shape, type, parallel, prompt, generate, batch, threads, raw, poolOnly, kv, flash, output,
        };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var settings = new InferenceBenchmarkSettings(
                CommandErrors.ParseIntegerList("--parallel", result.GetValue(parallel)!),
                Positive("--prompt", result.GetValue(prompt)),
                Positive("--gen", result.GetValue(generate)),
                Positive("--batch", result.GetValue(batch)),
                result.GetValue(threads),
                UnifiedKv: result.GetValue(kv) == "unified",
                FlashAttention: result.GetValue(flash) switch { "on" => true, "off" => false, _ => null });
            var path = result.GetValue(model) ?? DefaultModel.Synthetic(result.GetValue(shape)!, result.GetValue(type)!);
            using var loggers = CommandLogging.LlamaErrorsOnly();
            var runtime = LlamaLibrary.Initialize(logger: loggers.CreateLogger("llama.cpp"));
            using var loaded = LlamaModel.Load(path);
            var measurePool = !result.GetValue(raw);
            var measureRaw = !result.GetValue(poolOnly);
            var header = $"model {Path.GetFileName(path)} ({loaded.Description}), {runtime.Backend} ({string.Join("; ", runtime.Devices)}), " +
                $"{Environment.ProcessorCount} cores, prompt {settings.PromptTokens}, gen {settings.GenerateTokens}, n_batch {settings.BatchSize}, " +
                $"{(settings.UnifiedKv ? "unified" : "split")} KV, flash attention {settings.FlashAttention switch { true => "on", false => "off", null => "auto" }}";
            Console.WriteLine(header);
            var table = new StringBuilder();
            var columns = "| N | pool prompt tok/s | pool decode tok/s | pool ms/step | raw prompt tok/s | raw decode tok/s | raw ms/step | decode pool/raw | prompt pool/raw |";
            table.AppendLine(columns).AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(columns);
            foreach (var row in InferenceBenchmark.Run(loaded, settings, measurePool, measureRaw))
            {
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"| {row.Sequences} | {F(row.Pool?.PromptTokensPerSecond)} | {F(row.Pool?.DecodeTokensPerSecond)} | {F(row.Pool?.MillisecondsPerStep, "F2")} | " +
                    $"{F(row.Raw?.PromptTokensPerSecond)} | {F(row.Raw?.DecodeTokensPerSecond)} | {F(row.Raw?.MillisecondsPerStep, "F2")} | {P(row.DecodeRatio)} | {P(row.PromptRatio)} |");
                Console.WriteLine(line);
                table.AppendLine(line);
            }

            if (result.GetValue(output) is { } file)
            {
                File.WriteAllText(file, header + "\n\n" + table);
                Console.WriteLine($"written {file}");
            }

            return Task.FromResult(0);
        }));
        return command;
    }

    private static int Positive(string option, int value) =>
        value > 0 ? value : throw new ArgumentException($"{option}: {value} is not a positive number.", option);

    private static string F(double? value, string format = "N0") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string P(double? value) =>
        value is { } v ? v.ToString("P1", CultureInfo.InvariantCulture) : "-";
}
