using System.CommandLine;
using AgentTheater.Client.Commands;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Client.Hosting;

/// <summary>How a command sizes the pool of an embedded theater by default (each command for its own work).</summary>
/// <param name="Sequences">Pool sequences: sessions whose KV stays cached.</param>
/// <param name="Context">Tokens per sequence.</param>
internal sealed record PoolDefaults(int Sequences, int Context);

/// <summary>A running cluster to play on instead of an embedded silo.</summary>
/// <param name="Target">Its gateways (<c>ip:port[,ip:port]</c>) or its Redis membership table (<c>redis://host:port</c>).</param>
/// <param name="ClusterId">Cluster id.</param>
/// <param name="ServiceId">Service id.</param>
/// <param name="TlsCertificate">This client's certificate for a cluster that speaks TLS (null: plain).</param>
/// <param name="ConnectSeconds">How long connecting may take before the command gives up.</param>
internal sealed record ClusterAddress(string Target, string ClusterId, string ServiceId, string? TlsCertificate = null, int ConnectSeconds = 60);

/// <summary>What the shared options said.</summary>
/// <param name="Model">The <c>--model</c> given (null: the command's default model).</param>
/// <param name="Sequences">Pool sequences of an embedded theater.</param>
/// <param name="Context">Tokens per sequence of an embedded theater.</param>
/// <param name="LogLevel">Least level the embedded silo logs.</param>
/// <param name="Attribution">False with <c>--no-attribution</c>.</param>
/// <param name="Cluster">The cluster to play on; null for an embedded theater.</param>
/// <param name="HostKvMegabytes">Host memory for evicted sessions' KV state (<c>Inference:HostKvMegabytes</c>; -1: the default share, 0: off).</param>
internal sealed record TheaterSettings(string? Model, int Sequences, int Context, LogLevel LogLevel, bool Attribution, ClusterAddress? Cluster, int HostKvMegabytes = -1);

/// <summary>
/// The options every command that opens a theater shares: <c>--model</c>, <c>--sequences</c>, <c>--context</c> and
/// <c>--verbose</c> for an embedded silo, <c>--no-attribution</c> where a command may play without it, and
/// <c>--cluster</c>, <c>--cluster-id</c>, <c>--service-id</c> where it may play on a running cluster. Commands add them
/// with <see cref="AddTo"/>, read them with <see cref="Read"/> and open the theater with <see cref="Theater.OpenAsync"/>.
/// </summary>
internal sealed class TheaterOptions
{
    private const string DefaultId = "agent-theater";

    private readonly Option<string?>? _model;
    private readonly Option<int>? _sequences;
    private readonly Option<int>? _context;
    private readonly Option<bool>? _verbose;
    private readonly Option<int>? _hostKv;
    private readonly Option<bool>? _noAttribution;
    private readonly Option<string?>? _cluster;
    private readonly Option<string>? _clusterId;
    private readonly Option<string>? _serviceId;
    private readonly Option<string?>? _tlsCertificate;
    private readonly Option<int>? _connectTimeout;

    private TheaterOptions(PoolDefaults? embedded, string? modelDescription, bool attributionSwitch, bool cluster, bool clusterRequired)
    {
        if (embedded is not null)
        {
            _model = new Option<string?>("--model") { Description = modelDescription };
            _sequences = new Option<int>("--sequences") { Description = "Pool sequences (KV kept for this many sessions at once)", DefaultValueFactory = _ => embedded.Sequences };
            _context = new Option<int>("--context") { Description = "Tokens per sequence", DefaultValueFactory = _ => embedded.Context };
            _verbose = new Option<bool>("--verbose") { Description = "Log the silo at Information level" };
            _hostKv = new Option<int>("--kv-host-mb")
            {
                Description = "Host memory (MB) that keeps the KV state of sessions whose sequence went to another session, to restore instead of prefill (0: off; default: an eighth of this process's memory)",
                DefaultValueFactory = _ => -1,
            };
        }

        if (attributionSwitch)
        {
            _noAttribution = new Option<bool>("--no-attribution") { Description = "Play without role attribution (embedded silo; a cluster's silos decide for themselves)" };
        }

        if (cluster)
        {
            _cluster = new Option<string?>("--cluster")
            {
                Description = clusterRequired
                    ? "The cluster: its gateways (ip:port[,ip:port]) or its Redis membership table (redis://host:port)"
                    : "Play on a running cluster instead of an embedded silo: its gateways (ip:port[,ip:port]) or its Redis membership table (redis://host:port)",
                Required = clusterRequired,
            };
            _clusterId = new Option<string>("--cluster-id") { Description = "Cluster id of --cluster", DefaultValueFactory = _ => DefaultId };
            _serviceId = new Option<string>("--service-id") { Description = "Service id of --cluster", DefaultValueFactory = _ => DefaultId };
            _connectTimeout = new Option<int>("--connect-timeout")
            {
                Description = "Seconds to wait for the cluster's gateways before giving up",
                DefaultValueFactory = _ => 60,
            };
            _tlsCertificate = new Option<string?>("--tls-certificate")
            {
                Description = "A cluster whose silos use TLS (Cluster:Tls): this client's certificate (.pfx, password in AGENTTHEATER_Cluster__Tls__CertificatePassword)",
            };
        }
    }

    /// <summary>An embedded theater only (<c>--model</c>, <c>--sequences</c>, <c>--context</c>, <c>--verbose</c>).</summary>
    public static TheaterOptions Embedded(PoolDefaults defaults, string modelDescription, bool attributionSwitch = false) =>
        new(defaults, modelDescription, attributionSwitch, cluster: false, clusterRequired: false);

    /// <summary>An embedded theater unless <c>--cluster</c> names a running one.</summary>
    public static TheaterOptions EmbeddedOrCluster(PoolDefaults defaults, string modelDescription, bool attributionSwitch = true) =>
        new(defaults, modelDescription, attributionSwitch, cluster: true, clusterRequired: false);

    /// <summary>A running cluster only (<c>--cluster</c> required).</summary>
    public static TheaterOptions Cluster() => new(null, null, attributionSwitch: false, cluster: true, clusterRequired: true);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option?[] { _model, _sequences, _context, _verbose, _hostKv, _noAttribution, _cluster, _clusterId, _serviceId, _tlsCertificate, _connectTimeout })
        {
            if (option is not null)
            {
                command.Options.Add(option);
            }
        }
    }

    /// <summary>What the options say (the pool checks its sizes when it starts).</summary>
    public TheaterSettings Read(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var cluster = _cluster is not null && result.GetValue(_cluster) is { } target
            ? new ClusterAddress(target, result.GetValue(_clusterId!)!, result.GetValue(_serviceId!)!, result.GetValue(_tlsCertificate!), CommandErrors.InRange("--connect-timeout", result.GetValue(_connectTimeout!), 1, 3600))
            : null;
        return new TheaterSettings(
            _model is null ? null : result.GetValue(_model),
            _sequences is null ? 0 : result.GetValue(_sequences),
            _context is null ? 0 : result.GetValue(_context),
            _verbose is not null && result.GetValue(_verbose) ? LogLevel.Information : LogLevel.Warning,
            _noAttribution is null || !result.GetValue(_noAttribution),
            cluster,
            _hostKv is null ? -1 : CommandErrors.InRange("--kv-host-mb", result.GetValue(_hostKv), -1, 1 << 24));
    }
}
