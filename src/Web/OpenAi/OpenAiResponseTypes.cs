using System.Text.Json.Serialization;

namespace AgentTheater.Web.OpenAi;

/// <summary>The answer of <c>POST /v1/chat/completions</c> (<c>chat.completion</c>).</summary>
public sealed record ChatCompletion(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatCompletionChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage Usage)
{
    /// <summary>Always <c>chat.completion</c>.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "chat.completion";
}

/// <summary>The one choice of a chat completion.</summary>
public sealed record ChatCompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatCompletionMessage Message,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

/// <summary>The generated message.</summary>
public sealed record ChatCompletionMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

/// <summary>One server-sent event of a streamed chat completion (<c>chat.completion.chunk</c>).</summary>
public sealed record ChatCompletionChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatCompletionChunkChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage? Usage = null)
{
    /// <summary>Always <c>chat.completion.chunk</c>.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "chat.completion.chunk";
}

/// <summary>What a chunk adds to the choice.</summary>
public sealed record ChatCompletionChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChatCompletionDelta Delta,
    [property: JsonPropertyName("finish_reason"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

/// <summary>The role (first chunk) or the next piece of text.</summary>
public sealed record ChatCompletionDelta(
    [property: JsonPropertyName("role")] string? Role = null,
    [property: JsonPropertyName("content")] string? Content = null);

/// <summary>The answer of <c>POST /v1/completions</c>, and each event of its stream (<c>text_completion</c>).</summary>
public sealed record TextCompletion(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<TextCompletionChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage? Usage = null)
{
    /// <summary>Always <c>text_completion</c>.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "text_completion";
}

/// <summary>The one choice of a text completion: the whole continuation, or the next piece when streamed.</summary>
public sealed record TextCompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("finish_reason"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    /// <summary>Always null: log-probabilities are not reported.</summary>
    [JsonPropertyName("logprobs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public object? LogProbabilities { get; init; }
}

/// <summary>Tokens a completion took.</summary>
public sealed record CompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("prompt_tokens_details")] PromptTokensDetails PromptTokensDetails);

/// <summary>How the prompt's tokens were served.</summary>
public sealed record PromptTokensDetails(
    [property: JsonPropertyName("cached_tokens")] int CachedTokens);

/// <summary>The answer of <c>GET /v1/models</c>.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data)
{
    /// <summary>Always <c>list</c>.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "list";
}

/// <summary>A model the endpoint serves.</summary>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created)
{
    /// <summary>Always <c>model</c>.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "model";

    /// <summary>Always <c>agent-theater</c>.</summary>
    [JsonPropertyName("owned_by")]
    public string OwnedBy { get; init; } = "agent-theater";
}
