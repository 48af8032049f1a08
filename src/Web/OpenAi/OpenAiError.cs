using System.Text.Json.Serialization;

namespace AgentTheater.Web.OpenAi;

/// <summary>OpenAI's error body: <c>{"error": {...}}</c>.</summary>
public sealed record OpenAiErrorResponse(
    [property: JsonPropertyName("error")] OpenAiError Error);

/// <summary>What went wrong, in OpenAI's shape.</summary>
/// <param name="Message">For people.</param>
/// <param name="Type"><c>invalid_request_error</c> for the caller's mistakes, <c>server_error</c> for ours.</param>
/// <param name="Param">The request field at fault (<c>messages[1].role</c>), null when none is.</param>
/// <param name="Code">A stable code where OpenAI has one (<c>context_length_exceeded</c>, <c>model_not_found</c>), else null.</param>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonPropertyName("code"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code)
{
    /// <summary>The type of errors in the request.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>The type of errors on the server's side.</summary>
    public const string Server = "server_error";
}

/// <summary>A request the endpoint refuses with 400, naming the field at fault.</summary>
internal sealed class OpenAiRequestException(string? param, string message) : Exception(message)
{
    /// <summary>The request field at fault, in OpenAI's notation; null for the body as a whole.</summary>
    public string? Param { get; } = param;
}
