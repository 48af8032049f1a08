using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>Adds the theater's traces and metrics, and their exporters, to a host.</summary>
public static class TheaterTelemetryHostingExtensions
{
    /// <summary>
    /// Records the <see cref="TheaterTelemetry.Name"/> source and meter and Orleans' own (sources
    /// <c>Microsoft.Orleans.Runtime</c> and <c>Microsoft.Orleans.Application</c>, meter <c>Microsoft.Orleans</c>), with
    /// the exporters <see cref="TelemetryOptions"/> asks for (section <c>Telemetry</c>, then <paramref name="configure"/>):
    /// OTLP when <c>Otlp:Endpoint</c> is set, a JSONL file when <c>TraceFile</c> is. Invalid options throw here.
    /// Returns the OpenTelemetry builder so a host can add more (the silo adds the Prometheus exporter).
    /// </summary>
    public static IOpenTelemetryBuilder AddTheaterTelemetry(this IHostApplicationBuilder builder, Action<TelemetryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Bound now as well as through IOptions: which exporters exist is decided while the providers are built.
        var options = new TelemetryOptions();
        builder.Configuration.GetSection(TelemetryOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        options.ValidateAll();
        var registration = builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            registration.Configure(configure);
        }

        return builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing =>
            {
                tracing
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SamplingRatio)))
                    .AddSource(TheaterTelemetry.Name, ActivitySources.RuntimeActivitySourceName, ActivitySources.ApplicationGrainActivitySourceName);
                if (options.Otlp.Endpoint is not null)
                {
                    tracing.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options.Otlp));
                }

                if (!string.IsNullOrWhiteSpace(options.TraceFile))
                {
                    tracing.AddJsonlTraceFile(options.TraceFile);
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TheaterTelemetry.Name, TheaterTelemetry.OrleansMeterName);
                if (options.Otlp.Endpoint is not null)
                {
                    metrics.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options.Otlp));
                }
            });
    }

    /// <summary>
    /// Appends every finished span to <paramref name="path"/> as JSON lines (<see cref="JsonlTraceExporter"/>), in
    /// batches a second apart; disposing the tracer provider writes the rest.
    /// </summary>
    public static TracerProviderBuilder AddJsonlTraceFile(this TracerProviderBuilder builder, string path)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);

        // A queue large enough that a busy run never drops spans between two exports (the default holds 2,048).
        return builder.AddProcessor(_ => new BatchActivityExportProcessor(
            new JsonlTraceExporter(path),
            maxQueueSize: 1 << 17,
            scheduledDelayMilliseconds: 1000,
            exporterTimeoutMilliseconds: 30_000,
            maxExportBatchSize: 4096));
    }

    private static void ConfigureOtlp(OtlpExporterOptions otlp, TelemetryOptions.OtlpSettings settings)
    {
        otlp.Endpoint = settings.Endpoint!;
        otlp.Protocol = settings.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
    }
}
