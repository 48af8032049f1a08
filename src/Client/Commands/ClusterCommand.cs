using System.CommandLine;
using System.Text.Json;
using AgentTheater.Client.Cluster;
using AgentTheater.Client.Hosting;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater cluster status --cluster ... [--json]</c>.</summary>
internal static class ClusterCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var theaterOptions = TheaterOptions.Cluster();
        var json = new Option<bool>("--json") { Description = "Print the silos as JSON (for scripts) instead of a table" };
        var status = new Command("status", "List the cluster's silos: their metadata (gpu, model), grain activations and inference pool load.") { json };
        theaterOptions.AddTo(status);
        status.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            await using var theater = await Theater.OpenAsync(theaterOptions.Read(result), silo: null, cancellationToken);
            var rows = await ClusterStatus.ReadAsync(theater.Grains);
            Console.Write(result.GetValue(json) ? JsonSerializer.Serialize(rows, Json) + "\n" : ClusterStatus.Table(rows));
            return 0;
        }));
        return new Command("cluster", "Inspect a running cluster.") { status };
    }
}
