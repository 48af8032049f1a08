using System.Net;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Hosting;
using AgentTheater.Inference.Native;
using AgentTheater.Web.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// llama.cpp's CPU threads spin while they wait for each other: two pools decoding at once on a 2-core machine slow
// each other down by orders of magnitude. Test classes therefore run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace AgentTheater.Web.Tests;

/// <summary>
/// A real Kestrel app on a free loopback port serving the OpenAI endpoints over an <see cref="InferencePool"/> of a
/// tiny synthetic model written at start; nothing of Orleans.
/// </summary>
public sealed class OpenAiServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _folder = new();
    private WebApplication? _app;

    /// <summary>The app's address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The pool the endpoints generate with.</summary>
    public InferencePool Pool { get; private set; } = null!;

    /// <summary>The model file (its name is the model id).</summary>
    public string ModelPath => _folder.File("tiny-f32.gguf");

    public async ValueTask InitializeAsync()
    {
        SyntheticModel.Write(ModelPath, SyntheticModelShape.Parse("tiny"), GgmlType.F32, seed: 7);
        LlamaLibrary.Initialize();
        _app = await StartAsync(services => services.AddInferencePool(o =>
        {
            o.ModelPath = ModelPath;
            o.MaxSequences = 8;

            // Room for a generation long enough (about a second) that a client can hang up in the middle of it.
            o.SequenceContextLength = 4096;

            // One thread: with two, llama.cpp's threads spin waiting for each other, and on a busy 2-core machine every
            // test took seconds instead of milliseconds.
            o.Threads = 1;
        }));
        BaseUrl = Address(_app);
        Pool = _app.Services.GetRequiredService<InferencePool>();
    }

    /// <summary>Starts an app with the OpenAI endpoints, the services <paramref name="configure"/> adds and the endpoints <paramref name="map"/> maps; dispose it.</summary>
    public static async Task<WebApplication> StartAsync(Action<IServiceCollection> configure, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenAiEndpoints();
        configure(builder.Services);
        var app = builder.Build();
        app.MapOpenAiEndpoints();
        map?.Invoke(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    /// <summary>The address Kestrel bound (the port it picked).</summary>
    public static string Address(WebApplication app) => app.Urls.Single();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _folder.Dispose();
    }
}
