using System.Net;
using AgentTheater.Grains.Cluster;
using AgentTheater.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace AgentTheater.Client.Hosting;

/// <summary>A client of a running cluster (standalone silos), found through its gateways or through Redis.</summary>
internal sealed class RemoteTheater(IHost host) : ITheater
{
    /// <summary>Prefix of a <c>--cluster</c> value that names the Redis membership table rather than gateways.</summary>
    public const string RedisScheme = "redis://";

    public IGrainFactory Grains { get; } = host.Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// Connects to a cluster: its target is either gateways (<c>ip:port[,ip:port]</c>, static) or <c>redis://</c>
    /// followed by a StackExchange.Redis configuration string (e.g. <c>redis://127.0.0.1:6379</c>, with
    /// <c>,ssl=true</c> for TLS), where the client reads the live gateways from the silos' membership table; the
    /// password comes from <see cref="Secret"/> (<c>Cluster__RedisPassword</c>) when it is not in the string. With a
    /// TLS certificate, the client speaks mutual TLS to the gateways (<see cref="ClusterTls"/>).
    /// </summary>
    public static async Task<RemoteTheater> ConnectAsync(ClusterAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var cluster = address.Target;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            if (cluster.StartsWith(RedisScheme, StringComparison.OrdinalIgnoreCase))
            {
                var redis = cluster[RedisScheme.Length..];
                if (redis.Length == 0)
                {
                    throw new ArgumentException($"--cluster: '{cluster}' names no Redis server (e.g. redis://127.0.0.1:6379).", nameof(address));
                }

                var options = StackExchange.Redis.ConfigurationOptions.Parse(redis);
                options.Password = Secret("Cluster__RedisPassword") ?? options.Password;
                client.UseRedisClustering(o => o.ConfigurationOptions = options);
            }
            else
            {
                client.UseStaticClustering(Gateways(cluster));
            }

            if (address.TlsCertificate is { } certificate)
            {
                client.UseClusterTls(new ClusterTlsSettings { CertificatePath = certificate, CertificatePassword = Secret("Cluster__Tls__CertificatePassword") });
            }

            client
                .AddActivityPropagation()
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = address.ClusterId;
                    o.ServiceId = address.ServiceId;
                });
        });
        var host = builder.Build();
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connecting.CancelAfter(TimeSpan.FromSeconds(address.ConnectSeconds));
        try
        {
            await host.StartAsync(connecting.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new TimeoutException(
                $"no gateway of {cluster} (cluster id {address.ClusterId}) let this client in within {address.ConnectSeconds} s (--connect-timeout): is the cluster up, and do its silos and this client agree on TLS (--tls-certificate)?");
        }

        return new RemoteTheater(host);
    }

    /// <summary>
    /// A secret setting as the silos take it: <c>AGENTTHEATER_{name}</c>, else the file <paramref name="name"/> in
    /// <see cref="TheaterSecrets.Directory"/>; null when neither is there.
    /// </summary>
    private static string? Secret(string name)
    {
        if (Environment.GetEnvironmentVariable(EmbeddedTheater.EnvironmentPrefix + name) is { Length: > 0 } variable)
        {
            return variable;
        }

        var file = Path.Combine(TheaterSecrets.Directory, name);
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    private static IPEndPoint[] Gateways(string gateways) =>
        [.. gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port > 0
                ? endpoint
                : throw new ArgumentException($"--cluster: '{g}' is not a gateway endpoint (expected ip:port, e.g. 127.0.0.1:30000, or redis://host:port).", nameof(gateways)))];

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
