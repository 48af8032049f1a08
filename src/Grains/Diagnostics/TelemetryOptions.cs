using System.ComponentModel.DataAnnotations;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>Where traces and metrics go (section <c>Telemetry</c>); see docs/telemetry.md.</summary>
public sealed class TelemetryOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    [Required]
    public string ServiceName { get; set; } = "agent-theater";

    /// <summary>Share of traces recorded, 0 to 1 (a child follows its parent's decision, so traces stay whole).</summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>OTLP export of traces and metrics to a collector (off while <see cref="OtlpSettings.Endpoint"/> is empty).</summary>
    public OtlpSettings Otlp { get; set; } = new();

    /// <summary>The Prometheus scrape endpoint, where the host has an HTTP port (the standalone silo).</summary>
    public PrometheusSettings Prometheus { get; set; } = new();

    /// <summary>A JSONL file that receives every finished span (one JSON object a line); empty for none.</summary>
    public string? TraceFile { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Otlp.Endpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult(
                $"Telemetry:Otlp:Endpoint must be an absolute http or https URI (e.g. http://localhost:4317); it is '{endpoint}'.",
                ["Otlp:Endpoint"]);
        }

        if (Otlp.Protocol is not ("grpc" or "http/protobuf"))
        {
            yield return new ValidationResult($"Telemetry:Otlp:Protocol must be grpc or http/protobuf; it is '{Otlp.Protocol}'.", ["Otlp:Protocol"]);
        }

        if (string.IsNullOrWhiteSpace(Prometheus.Path) || !Prometheus.Path.StartsWith('/'))
        {
            yield return new ValidationResult($"Telemetry:Prometheus:Path must start with '/'; it is '{Prometheus.Path}'.", ["Prometheus:Path"]);
        }

        if (TraceFile is not null && TraceFile.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            yield return new ValidationResult($"Telemetry:TraceFile '{TraceFile}' is not a valid path.", [nameof(TraceFile)]);
        }
    }

    /// <summary>Throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming every invalid setting.</summary>
    public void ValidateAll()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(
                SectionName,
                typeof(TelemetryOptions),
                [.. results.Select(r => r.ErrorMessage ?? $"Telemetry:{string.Join(",", r.MemberNames)} is invalid.")]);
        }
    }

    /// <summary>OTLP exporter settings (section <c>Telemetry:Otlp</c>).</summary>
    public sealed class OtlpSettings
    {
        /// <summary>Collector endpoint, e.g. <c>http://localhost:4317</c> (gRPC) or <c>http://localhost:4318</c> (HTTP); empty: no OTLP.</summary>
        public Uri? Endpoint { get; set; }

        /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
        public string Protocol { get; set; } = "grpc";
    }

    /// <summary>Prometheus scrape endpoint settings (section <c>Telemetry:Prometheus</c>).</summary>
    public sealed class PrometheusSettings
    {
        /// <summary>Serve the scrape endpoint on the host's HTTP port.</summary>
        public bool Enabled { get; set; } = true;

        /// <summary>Path of the scrape endpoint.</summary>
        public string Path { get; set; } = "/metrics";
    }
}
