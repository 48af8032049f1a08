using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Cluster;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentTheater.Web.Api;

/// <summary>
/// A scene as Server-Sent Events. <c>line</c> events carry the line's index as their id, so a client that reconnects
/// with <c>Last-Event-ID</c> gets every later line once, in order. <c>attribution</c>, <c>takeover</c> and
/// <c>recovery</c> events follow the line they concern and carry no id: they describe state (keyed by line index and
/// character), so after a reconnect the stream sends them again for the lines so far. <c>end</c> comes last, with the
/// scene's status, after the last line's attribution.
/// </summary>
internal static class SceneEventStream
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static async Task WriteAsync(HttpContext http, IGrainFactory grains, string key, int lastEventId, CancellationToken cancellationToken)
    {
        var json = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.WriteAsync("retry: 1000\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var items = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        var scene = grains.GetGrain<ISceneGrain>(key);
        var attribution = grains.GetGrain<ISceneAttributionGrain>(key);
        var lines = PumpLinesAsync(scene, lastEventId + 1, items.Writer, stop.Token);
        var verdicts = PumpAttributionAsync(attribution, items.Writer, stop.Token);
        var ticks = PumpKeepAliveAsync(items.Writer, stop.Token);
        var sent = new SentState(lastEventId);
        try
        {
            await foreach (var item in items.Reader.ReadAllAsync(cancellationToken))
            {
                switch (item)
                {
                    case SceneLine line when line.Index > sent.LastLine:
                        await WriteEventAsync(http, "line", line.Index, line, json, cancellationToken);
                        sent.LastLine = line.Index;
                        await WriteAttributionAsync(http, sent, json, cancellationToken);
                        break;
                    case SceneAttribution snapshot:
                        sent.Attribution = snapshot;
                        await WriteAttributionAsync(http, sent, json, cancellationToken);
                        break;
                    case SceneEnded:
                        // The scene stores its end only after the last line's attribution: read it once more, then end.
                        sent.Attribution = await attribution.GetAttribution();
                        await WriteAttributionAsync(http, sent, json, cancellationToken);
                        await WriteEventAsync(http, "end", null, await scene.GetStatus(), json, cancellationToken);
                        return;
                    case KeepAliveTick:
                        await http.Response.WriteAsync(": keep-alive\n\n", cancellationToken);
                        await http.Response.Body.FlushAsync(cancellationToken);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(lines, verdicts, ticks).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Lines from <paramref name="from"/> on until the scene ends; the watch starts again after a silo failure.</summary>
    private static async Task PumpLinesAsync(ISceneGrain scene, int from, ChannelWriter<object> items, CancellationToken cancellationToken)
    {
        var next = from;
        while (true)
        {
            try
            {
                await foreach (var line in scene.Watch(next, cancellationToken).WithCancellation(cancellationToken))
                {
                    next = line.Index + 1;
                    await items.WriteAsync(line, cancellationToken);
                }

                await items.WriteAsync(new SceneEnded(), cancellationToken);
                return;
            }
            catch (Exception e) when (ClusterRetry.IsClusterFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    private static async Task PumpAttributionAsync(ISceneAttributionGrain attribution, ChannelWriter<object> items, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await foreach (var snapshot in attribution.Watch(cancellationToken).WithCancellation(cancellationToken))
                {
                    await items.WriteAsync(snapshot, cancellationToken);
                }
            }
            catch (Exception e) when (ClusterRetry.IsClusterFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    private static async Task PumpKeepAliveAsync(ChannelWriter<object> items, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(KeepAlive);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await items.WriteAsync(new KeepAliveTick(), cancellationToken);
        }
    }

    /// <summary>Verdicts, takeovers and recoveries not yet sent, for lines already sent.</summary>
    private static async Task WriteAttributionAsync(HttpContext http, SentState sent, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        if (sent.Attribution is not { Enabled: true } snapshot)
        {
            return;
        }

        foreach (var line in snapshot.Lines.Where(l => l.Index <= sent.LastLine && sent.Verdicts.Add(l.Index)))
        {
            await WriteEventAsync(http, "attribution", null, line, json, cancellationToken);
        }

        foreach (var takeover in snapshot.Takeovers.Where(t => t.DetectedLineIndex <= sent.LastLine))
        {
            var id = (takeover.CharacterId, takeover.LineIndex);
            if (sent.Takeovers.Add(id))
            {
                await WriteEventAsync(http, "takeover", null, takeover, json, cancellationToken);
            }

            if (takeover.RecoveredLineIndex is { } recovered && recovered <= sent.LastLine && sent.Recoveries.Add(id))
            {
                await WriteEventAsync(http, "recovery", null, takeover, json, cancellationToken);
            }
        }
    }

    private static async Task WriteEventAsync(HttpContext http, string name, int? id, object data, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var text = id is { } value
            ? string.Create(CultureInfo.InvariantCulture, $"id: {value}\nevent: {name}\ndata: {JsonSerializer.Serialize(data, data.GetType(), json)}\n\n")
            : $"event: {name}\ndata: {JsonSerializer.Serialize(data, data.GetType(), json)}\n\n";
        await http.Response.WriteAsync(text, cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>What this connection has sent.</summary>
    private sealed class SentState(int lastLine)
    {
        public int LastLine { get; set; } = lastLine;

        public SceneAttribution? Attribution { get; set; }

        public HashSet<int> Verdicts { get; } = [];

        public HashSet<(string Character, int Line)> Takeovers { get; } = [];

        public HashSet<(string Character, int Line)> Recoveries { get; } = [];
    }

    private sealed record SceneEnded;

    private sealed record KeepAliveTick;
}
