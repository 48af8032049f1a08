using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Web.Api;
using AgentTheater.Web.OpenAi;
using AgentTheater.Web.Runs;
using Microsoft.AspNetCore.Builder;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace AgentTheater.Web.Hosting;

/// <summary>
/// The theater's web app: the HTTP API for runs and scenes, the OpenAI-compatible endpoint over the silo's pool, the
/// OpenAPI document, the Orleans Dashboard and the live page. Hosted by the standalone silo and by <c>agent-theater serve</c>.
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

        builder.Services.AddOptions<TheaterHttpOptions>().BindConfiguration(TheaterHttpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower)));
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<RunLauncher>();

        // Backpressure at the door: work beyond what the server holds waits in a bounded queue, then gets 429.
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<TheaterWebOptions>>((limiter, web) =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                await Results.Problem(
                    title: "Too many requests",
                    detail: $"The server is serving {web.Value.MaxConcurrentRequests} requests and has {web.Value.MaxQueuedRequests} waiting (Web:MaxConcurrentRequests, Web:MaxQueuedRequests); retry after a second.",
                    statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
            };
            limiter.AddConcurrencyLimiter(TheaterWebOptions.WorkPolicy, c =>
            {
                c.PermitLimit = web.Value.MaxConcurrentRequests;
                c.QueueLimit = web.Value.MaxQueuedRequests;
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });
        builder.Services.AddOpenAiEndpoints();
        return builder;
    }

    /// <summary>
    /// Adds the Orleans Dashboard's services to the silo unless <c>Web:Dashboard</c> is false (the dashboard profiles
    /// every grain call).
    /// </summary>
    public static ISiloBuilder AddTheaterDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.GetValue($"{TheaterWebOptions.SectionName}:{nameof(TheaterWebOptions.Dashboard)}", true))
        {
            silo.AddDashboard();
        }

        return silo;
    }

    /// <summary>
    /// Maps <c>/api</c>, <c>/v1</c> (OpenAI-compatible), <c>/openapi/v1.json</c>, <c>/dashboard</c> (when enabled) and the
    /// page at <c>/</c>, behind the API key check (<see cref="TheaterHttpOptions.ApiKeys"/>) that also guards whatever
    /// else the host maps.
    /// </summary>
    public static WebApplication MapTheaterWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<TheaterWebOptions>>().Value;
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();
        app.UseStatusCodePages();
        var page = new EmbeddedFileProvider(typeof(TheaterWebExtensions).Assembly, "AgentTheater.Web.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = page });

        var api = app.MapGroup("/api").AddEndpointFilter(ApiErrors.HandleAsync);
        api.MapRunEndpoints();
        api.MapSceneEndpoints();
        app.MapGroup(string.Empty).RequireRateLimiting(TheaterWebOptions.WorkPolicy).MapOpenAiEndpoints();
        app.MapOpenApi();
        if (options.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard");
        }

        return app;
    }
}
