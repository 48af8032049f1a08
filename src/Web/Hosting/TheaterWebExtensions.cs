using AgentTheater.Web.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Web.Hosting;

/// <summary>
/// The theater's web app: the HTTP API for runs and scenes, the OpenAI-compatible endpoint over the silo's pool, the
/// OpenAPI document and the live page. Hosted by the standalone silo and by <c>agent-theater serve</c>.
/// </summary>
public static class TheaterWebExtensions
{
    /// <summary>Adds the web app's services (options from the <c>Web</c> section).</summary>
    public static WebApplicationBuilder AddTheaterWeb(this WebApplicationBuilder builder, Action<TheaterWebOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<TheaterWebOptions>().BindConfiguration(TheaterWebOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddOpenAiEndpoints();
        return builder;
    }

    /// <summary>Maps the web app's endpoints.</summary>
    public static WebApplication MapTheaterWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenAiEndpoints();
        return app;
    }
}
