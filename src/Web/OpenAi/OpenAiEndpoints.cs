using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Web.OpenAi;

/// <summary>The OpenAI-compatible endpoint over the silo's pool (<c>/v1/models</c>, <c>/v1/chat/completions</c>, <c>/v1/completions</c>).</summary>
public static class OpenAiEndpoints
{
    /// <summary>Adds what the endpoints need.</summary>
    public static IServiceCollection AddOpenAiEndpoints(this IServiceCollection services) => services;

    /// <summary>Maps the endpoints under <c>/v1</c>.</summary>
    public static IEndpointRouteBuilder MapOpenAiEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
