using System.Net;
using AgentTheater.Grains;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Hosting;
using AgentTheater.Grains.Storage;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace AgentTheater.Silo.Hosting;

/// <summary>The standalone silo: clustering, storage and the theater from configuration (appsettings, environment, flags).</summary>
public static class TheaterSiloHostingExtensions
{
    /// <summary>
    /// Configures Orleans and the theater from the <c>Cluster</c>, <c>Storage</c>, <c>Inference</c>, <c>Attribution</c>,
    /// <c>Http</c> and <c>Telemetry</c> sections; metrics are scraped from <c>/metrics</c> on the HTTP port unless
    /// <c>Telemetry:Prometheus:Enabled</c> is false.
    /// </summary>
    public static WebApplicationBuilder AddTheaterSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var cluster = Bind<TheaterClusterOptions>(builder.Configuration, TheaterClusterOptions.SectionName);
        var storage = Bind<TheaterStorageOptions>(builder.Configuration, TheaterStorageOptions.SectionName);
        var http = Bind<TheaterHttpOptions>(builder.Configuration, TheaterHttpOptions.SectionName);
        var telemetry = Bind<TelemetryOptions>(builder.Configuration, TelemetryOptions.SectionName);
        builder.WebHost.UseUrls($"http://0.0.0.0:{http.Port}");
        var openTelemetry = builder.AddTheaterTelemetry();
        if (telemetry.Prometheus.Enabled)
        {
            openTelemetry.WithMetrics(metrics => metrics.AddPrometheusExporter());
        }

        builder.UseOrleans(silo =>
        {
            switch (cluster.Provider)
            {
                case "Localhost":
                    silo.UseLocalhostClustering(
                        cluster.SiloPort,
                        cluster.GatewayPort,
                        string.IsNullOrWhiteSpace(cluster.PrimarySiloEndpoint) ? null : IPEndPoint.Parse(cluster.PrimarySiloEndpoint),
                        cluster.ServiceId,
                        cluster.ClusterId);
                    break;
                default:
                    throw new NotSupportedException($"Cluster:Provider '{cluster.Provider}' is not available in this build (Localhost only).");
            }

            if (storage.Provider == "Memory")
            {
                silo.AddMemoryGrainStorage(TheaterStorage.Name);
            }
            else
            {
                silo.AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = storage.SqlitePath);
            }

            silo.AddTheater();
        });
        return builder;
    }

    /// <summary>Health (<c>/health/live</c>, <c>/health/ready</c>), <c>/status</c> (pool figures) and the Prometheus scrape endpoint.</summary>
    public static WebApplication MapTheaterEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var telemetry = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (telemetry.Prometheus.Enabled)
        {
            app.MapPrometheusScrapingEndpoint(telemetry.Prometheus.Path);
        }

        // Liveness never calls grains or the pool: a busy silo is alive.
        app.MapGet("/health/live", () => Results.Ok("live"));
        app.MapGet("/health/ready", (IHostApplicationLifetime lifetime) =>
            lifetime.ApplicationStarted.IsCancellationRequested ? Results.Ok("ready") : Results.StatusCode(503));
        app.MapGet("/status", (IServiceProvider services) =>
        {
            var pool = services.GetRequiredService<InferencePool>();
            var stats = pool.Statistics;
            return Results.Ok(new
            {
                model = pool.Model.Path,
                sequences = pool.MaxSequences,
                running = stats.Running,
                inFlight = stats.InFlight,
                accepted = stats.Queued,
                rejected = stats.Rejected,
                generatedTokens = stats.GeneratedTokens,
                prefillTokens = stats.PrefillTokens,
                prefixReuseRatio = stats.PrefixReuseRatio,
                steps = stats.Steps,
            });
        });
        return app;
    }

    private static T Bind<T>(ConfigurationManager configuration, string section)
        where T : new()
    {
        var options = configuration.GetSection(section).Get<T>() ?? new T();
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true))
        {
            throw new OptionsValidationException(section, typeof(T), [.. results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}")]);
        }

        return options;
    }
}
