using System.CommandLine;
using AgentTheater.Client.Hosting;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Scenarios;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater validate FILE [--model FILE]</c>: checks a scenario without playing it.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var model = new Option<string?>("--model")
        {
            Description = "Also check that every character's card and setting fit this model's prompts (its tokenizer and training context)",
        };
        var context = new Option<int>("--context") { Description = "Tokens per sequence the run will have (with --model)", DefaultValueFactory = _ => 2048 };
        var command = new Command("validate", "Check a scenario file and report every error with its file, line and field.") { file, model, context };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var path = result.GetValue(file)!;
            var scenario = ScenarioFile.Load(path);
            if (result.GetValue(model) is { } named)
            {
                var sequenceContext = CommandErrors.InRange("--context", result.GetValue(context), 32, 1 << 20);
                CheckBudget(path, scenario, DefaultModel.Resolve(named, Path.GetDirectoryName(Path.GetFullPath(path))!), sequenceContext);
            }

            Console.WriteLine($"{path}: valid. {ScenarioFile.Describe(scenario)}");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Every character's card and setting against the model's prompts: the check a run makes at its start.</summary>
    private static void CheckBudget(string path, ScenarioDefinition scenario, string modelPath, int sequenceContext)
    {
        using var loggers = CommandLogging.LlamaErrorsOnly();
        LlamaLibrary.Initialize(logger: loggers.CreateLogger("llama.cpp"));
        // On the CPU: the weights are mapped, not read, and only the tokenizer and metadata are used.
        using var loaded = LlamaModel.Load(modelPath, gpuLayers: 0);
        var requested = scenario.PromptFormat switch
        {
            PromptFormatChoice.Script => PromptFormat.Script,
            PromptFormatChoice.Chat => PromptFormat.Chat,
            _ => (PromptFormat?)null,
        };
        var chat = PromptFormats.Resolve(loaded, requested) == PromptFormat.Chat;
        var chatMessageTokens = chat ? PromptFormats.ChatMessageTokens(loaded) : 0;
        var limits = new PromptLimits(loaded.TrainedContextLength, sequenceContext, ShiftsContext: false, ChatMessageTokens: chatMessageTokens);
        var pinned = PromptBudget.PinnedPrompts(scenario, chat);
        var extra = PromptBudget.PinnedExtra(limits, chat, scenario.Memory);
        var counts = pinned.Select(p => loaded.Tokenize(p.Text, addSpecial: false, parseSpecial: false).Length + extra).ToList();
        if (PromptBudget.FindOversized(scenario, pinned, counts, limits) is { } error)
        {
            throw new ArgumentException($"{path}: {error} (model {Path.GetFileName(modelPath)})");
        }
    }
}
