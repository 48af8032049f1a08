using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace AgentTheater.Web.Api;

/// <summary>
/// <c>/api/runs/{runId}/scenes</c>: the scenes of a run, a scene's transcript and live events, interventions, forks,
/// and what one character has witnessed.
/// </summary>
internal static class SceneEndpoints
{
    private const string Scene = "/{runId}/scenes/{sceneId}/{replica}";

    public static RouteGroupBuilder MapSceneEndpoints(this RouteGroupBuilder api)
    {
        var scenes = api.MapGroup("/runs").WithTags("Scenes");
        scenes.MapGet("/{runId}/scenes", ListAsync).WithName("ListScenes").WithSummary("Every scene replica of a run, in scenario order, with its status.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        scenes.MapGet(Scene, GetAsync).WithName("GetScene").WithSummary("A scene: status, cast, fork lineage and the transcript so far.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        scenes.MapGet(Scene + "/events", EventsAsync).WithName("SceneEvents")
            .WithSummary("Server-Sent Events: each line as it is spoken (id: its index), attribution verdicts, takeovers, recoveries, and the scene's end. Reconnect with Last-Event-ID to get what was missed.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        scenes.MapPost(Scene + "/interventions", InterveneAsync).WithName("Intervene").RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy)
            .WithSummary("Send a line (as the User, the Narrator, ...) spoken before the next turn; 'to' whispers it to one character.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        scenes.MapPost(Scene + "/forks", ForkAsync).WithName("ForkScene").RequireRateLimiting(Hosting.TheaterWebOptions.WorkPolicy)
            .WithSummary("Fork an ended scene into branches that share its lines before a turn and play on from there.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        scenes.MapGet(Scene + "/characters/{characterId}", CharacterAsync).WithName("GetCharacterContext")
            .WithSummary("What one character has witnessed, and the prompt it would speak from now.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Ok<List<SceneEntry>>> ListAsync(string runId, IGrainFactory grains)
    {
        var (run, _) = await RunEndpoints.RequireRunAsync(grains, runId);
        var keys = await run.GetSceneKeys();
        var statuses = await Task.WhenAll(keys.Select(k => grains.GetGrain<ISceneGrain>(k).GetStatus()));
        return TypedResults.Ok(statuses.Select(s => Entry(s.SceneKey, s)).ToList());
    }

    private static async Task<Ok<SceneView>> GetAsync(string runId, string sceneId, string replica, IGrainFactory grains)
    {
        var (scene, start, key) = await RequireSceneAsync(grains, runId, sceneId, replica);
        var status = await scene.GetStatus();
        var lineage = await scene.GetLineage();
        var lines = await scene.GetTranscript();
        return TypedResults.Ok(new SceneView(
            key,
            runId,
            sceneId,
            replica,
            status,
            start.Scene.Setting,
            start.Scene.MaxTurns,
            [.. start.Cast.Select(c => new CastMember(c.Id, c.Name, c.Role))],
            lineage,
            lines));
    }

    private static async Task EventsAsync(HttpContext http, string runId, string sceneId, string replica, IGrainFactory grains, int? after)
    {
        var (_, _, key) = await RequireSceneAsync(grains, runId, sceneId, replica);

        // EventSource sends the last id it saw when it reconnects; a client that cannot set the header may pass ?after=.
        var last = int.TryParse(http.Request.Headers["Last-Event-ID"], out var id) ? id : after ?? -1;
        await SceneEventStream.WriteAsync(http, grains, key, last, http.RequestAborted);
    }

    private static async Task<Accepted<InterventionAccepted>> InterveneAsync(string runId, string sceneId, string replica, InterventionRequest body, IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(body);
        var (scene, _, _) = await RequireSceneAsync(grains, runId, sceneId, replica);
        var to = string.IsNullOrWhiteSpace(body.To) ? null : body.To;
        var turn = await scene.Intervene(new SceneIntervention(string.IsNullOrWhiteSpace(body.Speaker) ? "User" : body.Speaker.Trim(), body.Text ?? string.Empty, to));
        return TypedResults.Accepted((string?)null, new InterventionAccepted(turn));
    }

    private static async Task<Created<SceneForkResult>> ForkAsync(string runId, string sceneId, string replica, ForkRequest body, IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(body);
        var (scene, _, _) = await RequireSceneAsync(grains, runId, sceneId, replica);
        var result = await scene.Fork(new SceneFork(body.Branches, body.AtTurn));
        return TypedResults.Created($"/api/runs/{runId}/scenes/{sceneId}/{replica}", result);
    }

    private static async Task<Ok<CharacterContext>> CharacterAsync(string runId, string sceneId, string replica, string characterId, IGrainFactory grains)
    {
        var (_, start, key) = await RequireSceneAsync(grains, runId, sceneId, replica);
        var card = start.Cast.FirstOrDefault(c => c.Id == characterId)
            ?? throw new NotFoundException($"'{characterId}' is not present in scene {key} (present: {string.Join(", ", start.Cast.Select(c => c.Id))}).");
        // A character of a story may have played on into later scenes: this is it as it was in this one.
        var view = await grains.GetGrain<ICharacterGrain>(start.CharacterKey(key, characterId)).GetView(key);
        return TypedResults.Ok(new CharacterContext(card.Id, card.Name, card.Role, view.Witnessed, view.Prompt, view.Played ?? [], view.Carried ?? CarriedMemory.Nothing));
    }

    /// <summary>The scene's grain, what it started with, and its key; <see cref="NotFoundException"/> for a scene that never started.</summary>
    private static async Task<(ISceneGrain Scene, SceneStart Start, string Key)> RequireSceneAsync(IGrainFactory grains, string runId, string sceneId, string replica)
    {
        var key = SceneKeys.Of(runId, sceneId, replica);
        var scene = grains.GetGrain<ISceneGrain>(key);
        var start = await scene.GetStart() ?? throw new NotFoundException($"There is no scene '{sceneId}' replica '{replica}' in run '{runId}'.");
        return (scene, start, key);
    }

    private static SceneEntry Entry(string key, SceneStatus status)
    {
        var (_, sceneId, replica) = SceneKeys.Parse(key);
        return new SceneEntry(key, sceneId, replica, status);
    }
}
