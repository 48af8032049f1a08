using System.Net;
using System.Net.Sockets;
using AgentTheater.Grains;
using AgentTheater.Grains.Hosting;
using AgentTheater.Grains.Storage;
using AgentTheater.Inference.Gguf;
using AgentTheater.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Web.Tests;

/// <summary>
/// The theater as <c>agent-theater serve</c> hosts it, in this process: a one-silo cluster (localhost clustering on free
/// ports, SQLite grain storage) with the real llama.cpp pool over a tiny synthetic model written at start, and the web
/// app on real Kestrel at a free loopback port. Runs write their folders under <see cref="RunsFolder"/>. Test classes run
/// one at a time (set for the assembly in OpenAiServerFixture.cs): two pools decoding at once on 2 cores crawl.
/// </summary>
public sealed class TheaterServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _folder = new();
    private WebApplication? _app;

    /// <summary>The app's address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Where runs started through the API write their folders.</summary>
    public string RunsFolder => _folder.File("runs");

    /// <summary>The model file the pool loads.</summary>
    public string ModelPath => _folder.File("tiny-f32.gguf");

    public async ValueTask InitializeAsync()
    {
        SyntheticModel.Write(ModelPath, SyntheticModelShape.Parse("tiny"), GgmlType.F32, seed: 7);
        _app = await StartServerAsync(_folder, ModelPath, sequences: 16, web =>
        {
            web.RunsFolder = RunsFolder;
            web.Dashboard = false;
        });
        BaseAddress = new Uri(_app.Urls.Single());
    }

    /// <summary>
    /// A silo with the tiny model's pool (<paramref name="sequences"/> sequences, one llama.cpp thread) and the web app on a
    /// free loopback port, state in <paramref name="folder"/>; dispose it.
    /// </summary>
    internal static async Task<WebApplication> StartServerAsync(TempDirectory folder, string modelPath, int sequences, Action<TheaterWebOptions> web)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort())
            .AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = folder.File("state.db"))
            .AddTheater(o =>
            {
                o.ModelPath = modelPath;
                o.MaxSequences = sequences;
                o.SequenceContextLength = 1024;
                o.BatchSize = 256;
                o.MicroBatchSize = 256;
                o.WaitWhenBusy = true;

                // llama.cpp's threads spin while they wait: two of them on 2 cores starve Kestrel and the silo, and a
                // six-token line of the tiny model takes a second or more instead of a few milliseconds.
                o.Threads = 1;
            }));
        builder.AddTheaterWeb(web);
        var app = builder.Build();
        app.MapTheaterWeb();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    /// <summary>A client of the app; each request is bounded by <paramref name="timeout"/> (30 s when not given).</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null) => new() { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _folder.Dispose();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
