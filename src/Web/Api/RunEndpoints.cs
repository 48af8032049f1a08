using System.Text;
using System.Text.Json;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Scenarios;
using AgentTheater.Web.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace AgentTheater.Web.Api;

/// <summary><c>/api/runs</c>: start a scenario, list runs, follow one, pause, resume or stop it.</summary>
internal static class RunEndpoints
{
    /// <summary>Largest scenario body read (characters; the parser then holds it to the same number of UTF-8 bytes).</summary>
    private const int MaxScenarioBytes = ScenarioFile.MaxFileBytes;

    private static readonly string[] YamlTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"];

    public static RouteGroupBuilder MapRunEndpoints(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapPost("/", StartAsync)
            .WithName("StartRun")
            .WithSummary("Start a run of the scenario in the body (YAML); ?replicas=N overrides the file's replicas.")
            .AddOpenApiOperationTransformer(DescribeScenarioBody)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy);
        runs.MapGet("/", ListAsync).WithName("ListRuns").WithSummary("Every run the cluster has started, oldest first, with its progress.");
        runs.MapGet("/{runId}", GetAsync).WithName("GetRun").WithSummary("A run's progress and, once its folder is written, its summary.").ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapPost("/{runId}/pause", (string runId, IGrainFactory grains, RunLauncher launcher) => ControlAsync(runId, grains, launcher, run => run.PausePlay()))
            .WithName("PauseRun").RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy).WithSummary("Pause every scene still playing, after the turn each is playing.").ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapPost("/{runId}/resume", (string runId, IGrainFactory grains, RunLauncher launcher) => ControlAsync(runId, grains, launcher, run => run.ResumePlay()))
            .WithName("ResumeRun").RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy).WithSummary("Resume a paused run.").ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapPost("/{runId}/stop", (string runId, IGrainFactory grains, RunLauncher launcher) => ControlAsync(runId, grains, launcher, run => run.StopPlay()))
            .WithName("StopRun").RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy).WithSummary("End every scene still playing; the run's folder is then written.").ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>
    /// The YAML body, for OpenAPI only: <c>Accepts</c> would also have routing refuse any other type with a bare 415
    /// before <see cref="StartAsync"/> could say which type to send.
    /// </summary>
    private static Task DescribeScenarioBody(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "The scenario file (YAML).",
            Content = YamlTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } }),
        };
        return Task.CompletedTask;
    }

    private static async Task<Results<Created<RunStarted>, ProblemHttpResult>> StartAsync(HttpRequest request, RunLauncher launcher, int? replicas, CancellationToken cancellationToken)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is null || !YamlTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(
                title: "Unsupported media type",
                detail: $"Send the scenario as YAML (Content-Type: application/yaml), not '{mediaType ?? "(none)"}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (request.ContentLength > MaxScenarioBytes)
        {
            return TooLarge();
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxScenarioBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        if (read > MaxScenarioBytes)
        {
            return TooLarge();
        }

        var runId = await launcher.StartAsync(new string(buffer, 0, read), replicas, cancellationToken);
        return TypedResults.Created($"/api/runs/{runId}", new RunStarted(runId));
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(title: "Scenario too large", detail: $"A scenario may be at most {MaxScenarioBytes:N0} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static async Task<Ok<List<RunView>>> ListAsync(IGrainFactory grains, RunLauncher launcher)
    {
        var entries = await grains.GetGrain<IRunCatalogGrain>(0).List();
        var views = await Task.WhenAll(entries.Select(async e => View(e.Scenario, await grains.GetGrain<IScenarioRunGrain>(e.RunId).GetProgress(), launcher)));
        return TypedResults.Ok(views.ToList());
    }

    private static async Task<Ok<RunView>> GetAsync(string runId, IGrainFactory grains, RunLauncher launcher)
    {
        var (run, scenario) = await RequireRunAsync(grains, runId);
        return TypedResults.Ok(View(scenario.Name, await run.GetProgress(), launcher));
    }

    private static async Task<Ok<RunView>> ControlAsync(string runId, IGrainFactory grains, RunLauncher launcher, Func<IScenarioRunGrain, Task> control)
    {
        var (run, scenario) = await RequireRunAsync(grains, runId);
        await control(run);
        return TypedResults.Ok(View(scenario.Name, await run.GetProgress(), launcher));
    }

    /// <summary>The run's grain and scenario; <see cref="NotFoundException"/> for a run never started.</summary>
    public static async Task<(IScenarioRunGrain Run, ScenarioDefinition Scenario)> RequireRunAsync(IGrainFactory grains, string runId)
    {
        var run = grains.GetGrain<IScenarioRunGrain>(runId);
        var scenario = await run.GetScenario() ?? throw new NotFoundException($"There is no run '{runId}'.");
        return (run, scenario);
    }

    private static RunView View(string scenario, RunProgress p, RunLauncher launcher)
    {
        var summaryFile = Path.Combine(launcher.Folder(p.RunId).Path, "summary.json");
        JsonElement? summary = p.Done && File.Exists(summaryFile) ? JsonDocument.Parse(File.ReadAllText(summaryFile)).RootElement.Clone() : null;
        return new RunView(
            p.RunId,
            scenario,
            p.Scenes,
            p.Completed,
            p.Failed,
            p.Scenes - p.Completed - p.Failed,
            p.Paused,
            p.Stopped,
            p.Done,
            p.LiveLines,
            p.LiveTokens,
            p.StartedAt,
            summary);
    }
}
