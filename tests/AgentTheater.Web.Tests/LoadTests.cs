using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Web.Tests;

/// <summary>More requests than the server holds: each one is answered (served, or 429 with Retry-After), none hangs.</summary>
[Trait("Category", "Load")]
public sealed class LoadTests
{
    private const int Requests = 2000;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Completions_TwoThousandAtOnceOnSixtyFourSequences_AllCompleteOrGet429_NoneHangs()
    {
        using var folder = new TempDirectory();
        var model = folder.File("tiny.gguf");
        SyntheticModel.Write(model, SyntheticModelShape.Parse("tiny"), GgmlType.F32, seed: 7);
        await using var app = await TheaterServerFixture.StartServerAsync(folder, model, sequences: 64, web =>
        {
            web.RunsFolder = folder.File("runs");
            web.Dashboard = false;
            web.MaxConcurrentRequests = 128;
            web.MaxQueuedRequests = 512;
        });
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Requests };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromMinutes(3) };

        var clock = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async i =>
        {
            using var response = await http.PostAsJsonAsync("/v1/completions", new { prompt = $"Marta: the cellar door {i}", max_tokens = 4, seed = i }, Cancel);
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta);
        })).WaitAsync(TimeSpan.FromMinutes(3), Cancel);

        // Every request got an answer within the bound: served, or turned away at once with a time to come back.
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{r.StatusCode}"));
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.Equal(TimeSpan.FromSeconds(1), r.RetryAfter));
        var served = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.True(served >= 128 + 512, $"only {served} of {Requests} were served");

        // Nothing is left in the pool.
        var pool = app.Services.GetRequiredService<InferencePool>();
        Assert.Equal(0, pool.Statistics.InFlight);
        Assert.Equal(0, pool.Statistics.Running);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Requests} requests: {served} served, {Requests - served} got 429, in {clock.Elapsed.TotalSeconds:F1} s");
    }
}
