using AgentTheater.Inference.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentTheater.Web.OpenAi;

/// <summary>The OpenAI-compatible endpoint over the silo's pool (<c>/v1/models</c>, <c>/v1/chat/completions</c>, <c>/v1/completions</c>).</summary>
/// <remarks>
/// Requests with the same <c>user</c>, or the same <c>X-Session-Id</c> header (which wins), are one session of the
/// pool: each prefills only what its prompt adds to the one before. On a process without an inference pool every
/// endpoint answers 503.
/// </remarks>
public static class OpenAiEndpoints
{
    /// <summary>
    /// Adds what the endpoints need: the <see cref="Inference.Chat.PooledChatClient"/> over the registered pool
    /// (options from <c>Inference:Chat</c>, created on the first request), which a process without a pool never creates.
    /// </summary>
    public static IServiceCollection AddOpenAiEndpoints(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddPooledChatClient();
        services.TryAddSingleton<OpenAiRequestHandler>();
        return services;
    }

    /// <summary>Maps the endpoints under <c>/v1</c>, tagged <c>OpenAI</c> in the OpenAPI document.</summary>
    public static IEndpointRouteBuilder MapOpenAiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var v1 = endpoints.MapGroup("/v1").WithTags("OpenAI");

        v1.MapGet("/models", (OpenAiRequestHandler handler) => handler.ListModels())
            .WithName("OpenAiListModels")
            .WithSummary("Lists the model this silo serves.")
            .Produces<ModelList>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/models/{model}", (string model, OpenAiRequestHandler handler) => handler.GetModel(model))
            .WithName("OpenAiGetModel")
            .WithSummary("Describes the model this silo serves; 404 for any other.")
            .Produces<ModelCard>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapPost("/chat/completions", (HttpContext context, OpenAiRequestHandler handler) => handler.ChatAsync(context))
            .WithName("OpenAiCreateChatCompletion")
            .WithSummary("Answers a conversation with the pooled model (OpenAI's chat completions).")
            .WithDescription("With \"stream\": true the answer is text/event-stream: chat.completion.chunk events (the role, content pieces, the finish reason, the usage when stream_options.include_usage), then [DONE].")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletion>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapPost("/completions", (HttpContext context, OpenAiRequestHandler handler) => handler.CompleteAsync(context))
            .WithName("OpenAiCreateCompletion")
            .WithSummary("Continues a prompt as it is, without the chat template (OpenAI's legacy completions).")
            .WithDescription("With \"stream\": true the answer is text/event-stream: text_completion events (text pieces, the finish reason, the usage when stream_options.include_usage), then [DONE].")
            .Accepts<CompletionRequest>("application/json")
            .Produces<TextCompletion>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return endpoints;
    }
}
