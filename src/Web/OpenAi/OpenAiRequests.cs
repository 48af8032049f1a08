using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentTheater.Inference.Chat;
using Microsoft.Extensions.AI;

namespace AgentTheater.Web.OpenAi;

/// <summary>
/// Checks OpenAI requests and turns them into what <see cref="PooledChatClient"/> takes. Every refusal is an
/// <see cref="OpenAiRequestException"/> naming the field, in the ranges OpenAI documents, so a client sees the same
/// 400 here as there instead of an engine's message about its own settings.
/// </summary>
internal static class OpenAiRequests
{
    /// <summary>The header that names a session explicitly; it wins over the body's <c>user</c>.</summary>
    public const string SessionHeader = "X-Session-Id";

    /// <summary>Prefixes the endpoint's session keys, so they can never meet the grains' keys in the pool.</summary>
    public const string SessionPrefix = "openai:";

    /// <summary>Reads a request body; malformed JSON and wrong types are refused naming the field where reading stopped.</summary>
    public static async Task<T> ReadAsync<T>(Stream body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        T? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(body, type, cancellationToken);
        }
        catch (JsonException error)
        {
            var param = ParamOf(error.Path + (error as WireFormatException)?.SubPath);
            var message = (error, param) switch
            {
                ({ InnerException: { } syntax }, _) => $"The request body is not valid JSON{(param is null ? string.Empty : $" (at '{param}')")}: {syntax.Message}",
                (_, null) => "The request body must be a JSON object.",
                (WireFormatException, _) => $"Invalid value for '{param}': {error.Message}",

                // System.Text.Json's own message names .NET types, which mean nothing to an HTTP client.
                _ => $"Invalid value for '{param}': the value has the wrong JSON type.",
            };
            throw new OpenAiRequestException(param, message);
        }

        return request ?? throw new OpenAiRequestException(null, "The request body must be a JSON object.");
    }

    /// <summary>The messages of a chat request as chat messages.</summary>
    public static List<ChatMessage> Messages(ChatCompletionRequest request)
    {
        if (request.Messages is not { Count: > 0 } messages)
        {
            throw new OpenAiRequestException("messages", request.Messages is null ? "Missing required parameter: 'messages'." : "'messages' must hold at least one message.");
        }

        var result = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new OpenAiRequestException($"messages[{i}]", $"messages[{i}] is null.");
            var role = message.Role switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                null => throw new OpenAiRequestException($"messages[{i}].role", $"Missing required parameter: 'messages[{i}].role'."),
                var other => throw new OpenAiRequestException($"messages[{i}].role", $"Invalid value '{other}' for 'messages[{i}].role': this endpoint takes system, developer, user and assistant messages (it offers no tools)."),
            };
            result.Add(new ChatMessage(role, Text(message.Content, role == ChatRole.Assistant, $"messages[{i}].content")));
        }

        return result;
    }

    /// <summary>The one prompt of a text completion request.</summary>
    public static string Prompt(CompletionRequest request) => request.Prompt switch
    {
        null => throw new OpenAiRequestException("prompt", "Missing required parameter: 'prompt'."),
        [var prompt] => prompt,
        var prompts => throw new OpenAiRequestException("prompt", $"'prompt' holds {prompts.Count} prompts; this endpoint completes one prompt per request."),
    };

    /// <summary>The chat options of a request, on <paramref name="session"/> (null for none).</summary>
    public static ChatOptions Options(GenerationFields request, string? session)
    {
        if (request.N is { } n && n != 1)
        {
            throw new OpenAiRequestException("n", $"Invalid value {n} for 'n': this endpoint generates one choice per request.");
        }

        var options = new ChatOptions
        {
            Temperature = InRange(request.Temperature, "temperature", 0, 2),

            // OpenAI allows top_p = 0 (only the most likely token); llama.cpp's top-p needs a positive mass, and the
            // smallest one keeps exactly that token.
            TopP = InRange(request.TopP, "top_p", 0, 1) is { } topP ? Math.Max(topP, float.Epsilon) : null,
            FrequencyPenalty = InRange(request.FrequencyPenalty, "frequency_penalty", -2, 2),
            PresencePenalty = InRange(request.PresencePenalty, "presence_penalty", -2, 2),
            MaxOutputTokens = AtLeastOne(request.MaxCompletionTokens, "max_completion_tokens") ?? AtLeastOne(request.MaxTokens, "max_tokens"),
            Seed = request.Seed is { } seed && (seed < 0 || seed > uint.MaxValue)
                ? throw new OpenAiRequestException("seed", $"Invalid value {seed} for 'seed': expected 0 to {uint.MaxValue}.")
                : request.Seed,
            StopSequences = Stops(request.Stop),
        };
        if (session is not null)
        {
            options.AdditionalProperties = new() { [PooledChatClient.SessionProperty] = SessionPrefix + session };
        }

        return options;
    }

    /// <summary>The session of a request: the <c>X-Session-Id</c> header, else the body's <c>user</c>; null for a one-off.</summary>
    public static string? Session(string? header, GenerationFields request) =>
        !string.IsNullOrEmpty(header) ? header
        : !string.IsNullOrEmpty(request.User) ? request.User
        : null;

    /// <summary>A JSON path such as <c>$.messages[0].content</c> as OpenAI names the field (<c>messages[0].content</c>); null for the root.</summary>
    internal static string? ParamOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null
        : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : path.TrimStart('$');

    private static string Text(MessageContent? content, bool mayBeEmpty, string param)
    {
        if (content?.Parts is { } parts)
        {
            var text = new StringBuilder();
            for (var j = 0; j < parts.Count; j++)
            {
                var part = parts[j];
                if (part?.Type != "text")
                {
                    throw new OpenAiRequestException($"{param}[{j}].type", $"Invalid value '{part?.Type}' for '{param}[{j}].type': the model reads only text parts.");
                }

                text.Append(part.Text ?? throw new OpenAiRequestException($"{param}[{j}].text", $"Missing required parameter: '{param}[{j}].text'."));
            }

            return text.ToString();
        }

        return content?.Text
            ?? (mayBeEmpty ? string.Empty : throw new OpenAiRequestException(param, $"Missing required parameter: '{param}'."));
    }

    private static List<string>? Stops(IReadOnlyList<string>? stop)
    {
        if (stop is null or { Count: 0 })
        {
            return null;
        }

        if (stop.Any(string.IsNullOrEmpty))
        {
            throw new OpenAiRequestException("stop", "Invalid value for 'stop': a stop sequence must not be empty.");
        }

        return [.. stop];
    }

    private static float? InRange(float? value, string param, float min, float max) =>
        value is not { } v || (v >= min && v <= max) ? value
        : throw new OpenAiRequestException(param, $"Invalid value {v} for '{param}': expected {min} to {max}.");

    private static int? AtLeastOne(int? value, string param) =>
        value is not { } v || v >= 1 ? value
        : throw new OpenAiRequestException(param, $"Invalid value {v} for '{param}': expected at least 1.");
}

