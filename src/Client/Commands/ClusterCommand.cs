using System.CommandLine;
using AgentTheater.Client.Theater;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater cluster status --cluster ...</c>.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var cluster = new Option<string>("--cluster")
        {
            Description = "The cluster: its Redis membership table (redis://host:port) or its gateways (ip:port[,ip:port])",
            Required = true,
        };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id", DefaultValueFactory = _ => "agent-theater" };
        var serviceId = new Option<string>("--service-id") { Description = "Service id", DefaultValueFactory = _ => "agent-theater" };
        var status = new Command("status", "List the cluster's silos: their metadata (gpu, model), grain activations and inference pool load.")
        {
            cluster, clusterId, serviceId,
        };
        status.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var target = result.GetValue(cluster)!;
            await using var remote = await RemoteTheater.ConnectAsync(target, result.GetValue(clusterId)!, result.GetValue(serviceId)!, cancellationToken);
            var rows = await ClusterStatus.ReadAsync(remote.Grains);
            Console.Write(ClusterStatus.Table(rows));
            return 0;
        }));
        return new Command("cluster", "Inspect a running cluster.") { status };
    }
}
