using AgentTheater.Grains;
using AgentTheater.Grains.Hosting;
using AgentTheater.Grains.Storage;
using AgentTheater.Inference.Gguf;
using Orleans.TestingHost;

[assembly: AssemblyFixture(typeof(AgentTheater.Integration.Tests.TheaterClusterFixture))]

// llama.cpp's CPU threads spin while they wait for each other: two pools decoding at once on a 2-core machine slow
// each other down by orders of magnitude. Test classes therefore run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace AgentTheater.Integration.Tests;

/// <summary>
/// A real two-silo Orleans cluster in this process: durable SQLite grain storage shared by both silos, and on each silo
/// the real llama.cpp pool over a tiny synthetic model written at test time.
/// </summary>
public sealed class TheaterClusterFixture : IAsyncLifetime
{
    public TheaterClusterFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"agent-theater-grains-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        ModelPath = Path.Combine(Directory, "tiny.gguf");
        DatabasePath = Path.Combine(Directory, "state.db");
    }

    public string Directory { get; }

    public string ModelPath { get; }

    public string DatabasePath { get; }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        SyntheticModel.Write(ModelPath, SyntheticModelShape.Tiny, GgmlType.F32, seed: 11);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureClient(client => client.AddActivityPropagation());
        builder.ConfigureSilo((_, silo) => silo
            .AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = DatabasePath)
            .AddTheater(o =>
            {
                o.ModelPath = ModelPath;
                o.MaxSequences = 16;
                o.SequenceContextLength = 1024;
                o.BatchSize = 256;
                o.MicroBatchSize = 256;

                // Two pools share this process: one llama.cpp thread each, never more threads than cores.
                o.Threads = 1;
                o.WaitWhenBusy = true;
            },
            attribution =>
            {
                // Random weights make detection quality meaningless; threshold 1 counts every scored line as taken over,
                // so every character's second line completes a takeover and the trigger search runs, deterministically.
                // Every line is scored under every role (a screened line would be held, and threshold 1 needs the screen off).
                attribution.Threshold = 1;
                attribution.Screen = false;
            }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
