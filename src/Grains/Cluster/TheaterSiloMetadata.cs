namespace AgentTheater.Grains.Cluster;

/// <summary>Keys of the silo metadata a theater silo publishes (Orleans silo metadata, readable by every silo).</summary>
public static class TheaterSiloMetadata
{
    /// <summary>File name of the model the silo's inference pool loads; absent on a silo without a model.</summary>
    public const string Model = "model";

    /// <summary>Declared by configuration (<c>Cluster:Metadata:gpu=true</c>) on silos with a GPU; informative.</summary>
    public const string Gpu = "gpu";
}
