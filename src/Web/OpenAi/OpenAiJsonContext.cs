using System.Text.Json.Serialization;

namespace AgentTheater.Web.OpenAi;

/// <summary>Source-generated JSON of the OpenAI wire types: nulls are left out unless OpenAI's shape writes them.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(TextCompletion))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(OpenAiErrorResponse))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext;
