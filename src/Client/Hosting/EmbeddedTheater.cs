using System.Net;
using System.Net.Sockets;
using AgentTheater.Grains;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Hosting;
using AgentTheater.Grains.Storage;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Client.Hosting;

/// <summary>What the embedded silo needs.</summary>
/// <param name="ModelPath">GGUF model the pool loads.</param>
/// <param name="DatabasePath">SQLite file of the durable grain storage.</param>
/// <param name="Sequences">Pool sequences (sessions whose KV stays cached).</param>
/// <param name="ContextLength">Tokens per sequence.</param>
/// <param name="LogLevel">Least level logged to the console.</param>
/// <param name="TraceFile">JSONL file for every span (null: no tracing).</param>
/// <param name="TraceSampling">Share of traces recorded.</param>
/// <param name="Attribution">False to play without role attribution.</param>
/// <param name="HostKvMegabytes">Host memory for evicted sessions' KV state (-1: the pool's default share, 0: off).</param>
internal sealed record EmbeddedTheaterSettings(
    string ModelPath, string DatabasePath, int Sequences, int ContextLength, LogLevel LogLevel, string? TraceFile = null, double TraceSampling = 1.0, bool Attribution = true, int HostKvMegabytes = -1);

/// <summary>
/// A one-silo cluster inside this process (localhost clustering on free ports) with durable SQLite grain storage and
/// the pooled engine: the default way to run a scenario on one machine.
/// </summary>
internal sealed class EmbeddedTheater(IHost host) : ITheater
{
    /// <summary>Prefix of the environment variables that configure the embedded silo (<c>AGENTTHEATER_Section__Key</c>).</summary>
    public const string EnvironmentPrefix = "AGENTTHEATER_";

    public IGrainFactory Grains { get; } = host.Services.GetRequiredService<IGrainFactory>();

    public IServiceProvider Services => host.Services;

    /// <summary>
    /// The folder the embedded silo loads llama.cpp from (<c>AGENTTHEATER_Inference__NativeDirectory</c>), or null for
    /// the automatic choice.
    /// </summary>
    public static string? NativeDirectory() =>
        new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build()[$"{InferencePoolOptions.SectionName}:{nameof(InferencePoolOptions.NativeDirectory)}"] is { Length: > 0 } folder
            ? folder
            : null;

    public static async Task<EmbeddedTheater> StartAsync(EmbeddedTheaterSettings settings, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Production" });
        AddEmbeddedSilo(builder, settings);
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new EmbeddedTheater(host);
    }

    /// <summary>
    /// The embedded silo on <paramref name="builder"/>: configuration from <c>AGENTTHEATER_</c> variables, console
    /// logging, traces to a file when asked, localhost clustering on free ports, SQLite grain storage and the pool.
    /// Shared by every command's embedded theater and by <c>serve</c>, which adds the web app to the same host.
    /// </summary>
    public static void AddEmbeddedSilo(IHostApplicationBuilder builder, EmbeddedTheaterSettings settings, Action<ISiloBuilder>? configureSilo = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);

        // Settings the flags do not cover come from the environment, e.g. AGENTTHEATER_Attribution__Threshold=0.2.
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(settings.LogLevel).AddFilter("AgentTheater.Inference.Native", LogLevel.Error);
        if (settings.TraceFile is not null)
        {
            builder.AddTheaterTelemetry(o =>
            {
                o.TraceFile = settings.TraceFile;
                o.SamplingRatio = settings.TraceSampling;
            });
        }

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort())
                .AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = settings.DatabasePath)
                .AddTheater(o =>
                {
                    o.ModelPath = settings.ModelPath;
                    o.MaxSequences = settings.Sequences;
                    o.SequenceContextLength = settings.ContextLength;
                    o.WaitWhenBusy = true;
                    o.HostKvMegabytes = settings.HostKvMegabytes;
                },
                settings.Attribution ? null : o => o.Enabled = false);
            configureSilo?.Invoke(silo);
        });
    }

    /// <summary>Stops the silo; disposing the host flushes the spans still queued to the trace file.</summary>
    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
