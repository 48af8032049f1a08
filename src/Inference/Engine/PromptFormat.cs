using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

/// <summary>How a character's prompt is laid out for the model.</summary>
public enum PromptFormat
{
    /// <summary>
    /// The project's completion format: a persona card, <c>Speaker: line</c> per witnessed line, and the speaker's name
    /// cue. Plain text: nothing in it is a control token. The project's own models are trained on it.
    /// </summary>
    Script,

    /// <summary>
    /// The model's chat template (<c>llama_chat_apply_template</c>): the card as the system message, other speakers'
    /// lines as user turns, the character's own lines as assistant turns. Only the template's markers are control tokens.
    /// </summary>
    Chat,
}

/// <summary>Which <see cref="PromptFormat"/> a model gets.</summary>
public static class PromptFormats
{
    /// <summary>
    /// Tokens <paramref name="model"/>'s chat template adds around one more message (role markers and separators,
    /// measured on a one-word user message after a system message); 0 when llama.cpp does not know the template.
    /// </summary>
    public static int ChatMessageTokens(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ChatTurn system = new("system", "x");
        var one = model.TokenizeChat([system], addAssistantPrompt: false);
        var two = model.TokenizeChat([system, new ChatTurn("user", "x")], addAssistantPrompt: false);
        return one is null || two is null ? 0 : Math.Max(1, two.Length - one.Length - model.Tokenize("x", addSpecial: false, parseSpecial: false).Length);
    }

    /// <summary>The GGUF key that marks the project's own models (its value describes their prompt format).</summary>
    public const string MetadataKey = "agent_theater.prompt_format";

    /// <summary>
    /// The format for <paramref name="model"/>. Requested <see cref="PromptFormat.Script"/> is always possible; requested
    /// <see cref="PromptFormat.Chat"/> needs a chat template llama.cpp recognises. Null (auto): a model that carries
    /// <see cref="MetadataKey"/> (ours) gets the script, else one with a recognised template gets chat, else the script.
    /// </summary>
    /// <exception cref="PromptFormatException">Chat was requested and the model has no template llama.cpp recognises.</exception>
    public static PromptFormat Resolve(LlamaModel model, PromptFormat? requested = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return requested switch
        {
            PromptFormat.Script => PromptFormat.Script,
            PromptFormat.Chat when HasChatTemplate(model) => PromptFormat.Chat,
            PromptFormat.Chat => throw new PromptFormatException(model.Path, NoTemplateReason(model)),
            _ when model.Header.GetString(MetadataKey) is not null => PromptFormat.Script,
            _ => HasChatTemplate(model) ? PromptFormat.Chat : PromptFormat.Script,
        };
    }

    /// <summary>Whether llama.cpp recognises <paramref name="model"/>'s chat template (it has no jinja engine).</summary>
    public static bool HasChatTemplate(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.ApplyChatTemplate([new ChatTurn("user", "hello")]) is not null;
    }

    internal static string NoTemplateReason(LlamaModel model) => model.ChatTemplate is null
        ? "the model has no chat template (tokenizer.chat_template)"
        : "llama.cpp does not recognise the model's chat template (llama_chat_apply_template knows only its built-in templates)";
}

/// <summary>A prompt in the chat format was asked of a model that cannot take one.</summary>
public sealed class PromptFormatException(string modelPath, string reason)
    : Exception($"{modelPath}: the chat prompt format needs a chat template llama.cpp recognises, but {reason}; use the script format.")
{
    /// <summary>The model file.</summary>
    public string ModelPath { get; } = modelPath;
}
