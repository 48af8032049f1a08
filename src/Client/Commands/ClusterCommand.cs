using System.CommandLine;
using AgentTheater.Client.Cluster;
using AgentTheater.Client.Hosting;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater cluster status --cluster ...</c>.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var theaterOptions = TheaterOptions.Cluster();
        var status = new Command("status", "List the cluster's silos: their metadata (gpu, model), grain activations and inference pool load.");
        theaterOptions.AddTo(status);
        status.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            await using var theater = await Theater.OpenAsync(theaterOptions.Read(result), silo: null, cancellationToken);
            var rows = await ClusterStatus.ReadAsync(theater.Grains);
            Console.Write(ClusterStatus.Table(rows));
            return 0;
        }));
        return new Command("cluster", "Inspect a running cluster.") { status };
    }
}
