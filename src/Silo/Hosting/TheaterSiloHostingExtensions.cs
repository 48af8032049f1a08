using System.Net;
using System.Net.Sockets;
using AgentTheater.Grains;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Hosting;
using AgentTheater.Grains.Inference;
using AgentTheater.Grains.Storage;
using AgentTheater.Inference.Engine;
using AgentTheater.Web.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using StackExchange.Redis;

namespace AgentTheater.Silo.Hosting;

/// <summary>The standalone silo: clustering, storage and the theater from configuration (appsettings, environment, flags).</summary>
public static class TheaterSiloHostingExtensions
{

    /// <summary>
    /// Configures Orleans and the theater from the <c>Cluster</c>, <c>Storage</c>, <c>Inference</c>, <c>Attribution</c>,
    /// <c>Http</c> and <c>Telemetry</c> sections; metrics are scraped from <c>/metrics</c> on the HTTP port unless
    /// <c>Telemetry:Prometheus:Enabled</c> is false. The silo hosts the inference pool only when
    /// <c>Inference:ModelPath</c> is set; without it, it never loads a model and the inference grain is placed elsewhere.
    /// </summary>
    public static WebApplicationBuilder AddTheaterSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Secrets as files, one per setting (Http__ApiKeys__0, Cluster__RedisPassword): Docker and Kubernetes secrets.
        builder.Configuration.AddKeyPerFile(TheaterSecrets.Directory, optional: true);
        var cluster = Bind<TheaterClusterOptions>(builder.Configuration, TheaterClusterOptions.SectionName);
        var storage = Bind<TheaterStorageOptions>(builder.Configuration, TheaterStorageOptions.SectionName);
        var http = Bind<TheaterHttpOptions>(builder.Configuration, TheaterHttpOptions.SectionName);
        var telemetry = Bind<TelemetryOptions>(builder.Configuration, TelemetryOptions.SectionName);
        var hostsInference = !string.IsNullOrWhiteSpace(builder.Configuration[$"{InferencePoolOptions.SectionName}:{nameof(InferencePoolOptions.ModelPath)}"]);
        builder.WebHost.UseUrls([.. http.ListenUrls()]);
        builder.AddTheaterWeb();
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
                case "Redis":
                    var advertised = AdvertisedAddress(cluster);
                    silo.UseRedisClustering(o => o.ConfigurationOptions = Redis(cluster.RedisConnectionString!, cluster.RedisPassword))
                        .Configure<ClusterOptions>(o =>
                        {
                            o.ClusterId = cluster.ClusterId;
                            o.ServiceId = cluster.ServiceId;
                        })
                        .Configure<EndpointOptions>(o =>
                        {
                            // Other silos and clients reach the advertised address; the ports listen there unless told otherwise.
                            var listen = string.IsNullOrWhiteSpace(cluster.ListenIPAddress) ? advertised : IPAddress.Parse(cluster.ListenIPAddress);
                            o.AdvertisedIPAddress = advertised;
                            o.SiloPort = cluster.SiloPort;
                            o.GatewayPort = cluster.GatewayPort;
                            o.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
                            o.GatewayListeningEndpoint = new IPEndPoint(listen, cluster.GatewayPort);
                        });
                    break;
                default:
                    throw new NotSupportedException($"Cluster:Provider '{cluster.Provider}' is not available in this build.");
            }

            if (cluster.Tls.Enabled)
            {
                silo.UseClusterTls(cluster.Tls);
            }

            if (!string.IsNullOrWhiteSpace(cluster.SiloName))
            {
                silo.Configure<SiloOptions>(o => o.SiloName = cluster.SiloName);
            }

            // Failure detection (probe timeout, missed probes, votes) is Orleans' own, tunable under Cluster:Membership.
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection($"{TheaterClusterOptions.SectionName}:Membership"));

            switch (storage.Provider)
            {
                case "Memory":
                    silo.AddMemoryGrainStorage(TheaterStorage.Name);
                    break;
                case "Redis":
                    var connection = string.IsNullOrWhiteSpace(storage.RedisConnectionString) ? cluster.RedisConnectionString : storage.RedisConnectionString;
                    if (string.IsNullOrWhiteSpace(connection))
                    {
                        throw new OptionsValidationException(
                            TheaterStorageOptions.SectionName,
                            typeof(TheaterStorageOptions),
                            ["Storage:RedisConnectionString (or Cluster:RedisConnectionString) is required when Storage:Provider is Redis."]);
                    }

                    silo.AddRedisGrainStorage(TheaterStorage.Name, o => o.ConfigurationOptions = Redis(connection, cluster.RedisPassword));
                    break;
                default:
                    silo.AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = storage.SqlitePath);
                    break;
            }

            silo.AddTheater(new TheaterSiloProfile(hostsInference, cluster.Metadata));
            silo.AddTheaterDashboard(builder.Configuration);
        });
        return builder;
    }

    /// <summary>
    /// Health (<c>/health/live</c>, <c>/health/ready</c>), <c>/status</c> (pool figures), the Prometheus scrape endpoint
    /// and the web app (<c>/</c>, <c>/api</c>, <c>/v1</c>, <c>/openapi/v1.json</c>, <c>/dashboard</c>).
    /// </summary>
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
        app.MapTheaterWeb();

        // The pool as it stands: a silo with a model loads it at start; asking never loads one.
        app.MapGet("/status", (IServiceProvider services) =>
        {
            var hostsInference = services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(InferencePool));
            var configured = hostsInference ? services.GetRequiredService<IOptions<InferencePoolOptions>>().Value.ModelPath : null;
            var pool = services.GetRequiredService<InferencePoolTelemetry>().Pool;
            if (pool is null)
            {
                return Results.Ok(new { model = configured, loaded = false });
            }

            var stats = pool.Statistics;
            return Results.Ok(new
            {
                model = pool.Model.Path,
                loaded = true,
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

    /// <summary>A Redis configuration with the password from its own setting, when there is one.</summary>
    private static ConfigurationOptions Redis(string connection, string? password)
    {
        var options = ConfigurationOptions.Parse(connection);
        if (!string.IsNullOrEmpty(password))
        {
            options.Password = password;
        }

        return options;
    }

    /// <summary>
    /// Runs the silo, as <see cref="WebApplication.RunAsync"/> does, once its model passes <see cref="InferenceModelCheck"/>.
    /// A model that fails it stops the silo before it listens or joins its cluster (it is never ready), with one log line.
    /// </summary>
    /// <returns>The process exit code: 0, or <see cref="InferenceModelCheck.ExitCode"/> for a model that fails the check.</returns>
    public static async Task<int> RunTheaterSiloAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!InferenceModelCheck.Passes(app.Services))
        {
            // Disposing flushes the console log, so the line is written before the process exits.
            await app.DisposeAsync();
            return InferenceModelCheck.ExitCode;
        }

        await app.RunAsync();
        return 0;
    }

    private static IPAddress AdvertisedAddress(TheaterClusterOptions cluster)
    {
        if (!string.IsNullOrWhiteSpace(cluster.AdvertisedIPAddress))
        {
            return IPAddress.Parse(cluster.AdvertisedIPAddress);
        }

        return Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
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
