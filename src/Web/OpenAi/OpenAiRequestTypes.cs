using System.Text.Json.Serialization;

namespace AgentTheater.Web.OpenAi;

/// <summary>The fields OpenAI's chat and text completion requests share: model, sampling, limits, stop, user and streaming.</summary>
public abstract record GenerationFields
{
    /// <summary>The model asked for; echoed in the response (the pool serves one model).</summary>
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>Sampling temperature, 0 (greedy) to 2.</summary>
    [JsonPropertyName("temperature")]
    public float? Temperature { get; init; }

    /// <summary>Nucleus sampling mass, 0 to 1.</summary>
    [JsonPropertyName("top_p")]
    public float? TopP { get; init; }

    /// <summary>Most tokens to generate (OpenAI's older name).</summary>
    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    /// <summary>Most tokens to generate; wins over <see cref="MaxTokens"/>.</summary>
    [JsonPropertyName("max_completion_tokens")]
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Generation ends before the first of these (a string or an array of strings on the wire).</summary>
    [JsonPropertyName("stop")]
    [JsonConverter(typeof(StringOrStringsJsonConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>Seed of the draw, 0 to 4294967295.</summary>
    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    /// <summary>Penalty per occurrence of a token in the recent context, -2 to 2.</summary>
    [JsonPropertyName("frequency_penalty")]
    public float? FrequencyPenalty { get; init; }

    /// <summary>Penalty for a token present in the recent context, -2 to 2.</summary>
    [JsonPropertyName("presence_penalty")]
    public float? PresencePenalty { get; init; }

    /// <summary>Choices to generate; only 1.</summary>
    [JsonPropertyName("n")]
    public int? N { get; init; }

    /// <summary>The end user: requests with the same user reuse their cached prompt prefix (unless <c>X-Session-Id</c> is sent).</summary>
    [JsonPropertyName("user")]
    public string? User { get; init; }

    /// <summary>Answer as server-sent events.</summary>
    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    /// <summary>Options of a streamed answer.</summary>
    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }
}

/// <summary>Options of a streamed answer.</summary>
public sealed record StreamOptions
{
    /// <summary>Send a last chunk with the usage and no choices.</summary>
    [JsonPropertyName("include_usage")]
    public bool? IncludeUsage { get; init; }
}

/// <summary>A request to <c>POST /v1/chat/completions</c>.</summary>
public sealed record ChatCompletionRequest : GenerationFields
{
    /// <summary>The conversation so far.</summary>
    [JsonPropertyName("messages")]
    public IReadOnlyList<ChatCompletionRequestMessage>? Messages { get; init; }
}

/// <summary>One message of a chat completion request.</summary>
public sealed record ChatCompletionRequestMessage
{
    /// <summary><c>system</c> (or <c>developer</c>), <c>user</c> or <c>assistant</c>.</summary>
    [JsonPropertyName("role")]
    public string? Role { get; init; }

    /// <summary>The text, as a string or an array of text parts.</summary>
    [JsonPropertyName("content")]
    public MessageContent? Content { get; init; }
}

/// <summary>A message's content: a string, or parts of which only <c>text</c> ones are served.</summary>
[JsonConverter(typeof(MessageContentJsonConverter))]
public sealed record MessageContent
{
    /// <summary>The content when sent as a string.</summary>
    public string? Text { get; init; }

    /// <summary>The content when sent as an array of parts.</summary>
    public IReadOnlyList<ContentPart>? Parts { get; init; }
}

/// <summary>One part of a message's content.</summary>
public sealed record ContentPart
{
    /// <summary>The kind of part; only <c>text</c> is served.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>The text of a <c>text</c> part.</summary>
    [JsonPropertyName("text")]
    public string? Text { get; init; }
}

/// <summary>A request to <c>POST /v1/completions</c>.</summary>
public sealed record CompletionRequest : GenerationFields
{
    /// <summary>The text to continue: a string, or an array holding one string.</summary>
    [JsonPropertyName("prompt")]
    [JsonConverter(typeof(StringOrStringsJsonConverter))]
    public IReadOnlyList<string>? Prompt { get; init; }
}
