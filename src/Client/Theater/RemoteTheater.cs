using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace AgentTheater.Client.Theater;

/// <summary>A client of a running cluster (standalone silos), found through its gateways.</summary>
internal sealed class RemoteTheater(IHost host) : IAsyncDisposable
{
    public IGrainFactory Grains { get; } = host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects to the gateways in <paramref name="gateways"/> (<c>host:port[,host:port]</c>).</summary>
    public static async Task<RemoteTheater> ConnectAsync(string gateways, string clusterId, string serviceId, CancellationToken cancellationToken)
    {
        var endpoints = gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port > 0
                ? endpoint
                : throw new ArgumentException($"--cluster: '{g}' is not a gateway endpoint (expected ip:port, e.g. 127.0.0.1:30000).", nameof(gateways)))
            .ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client
            .UseStaticClustering(endpoints)
            .AddActivityPropagation()
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            }));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new RemoteTheater(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
