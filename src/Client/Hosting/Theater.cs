namespace AgentTheater.Client.Hosting;

/// <summary>A theater a command plays on: an embedded silo in this process or a client of a running cluster.</summary>
internal interface ITheater : IAsyncDisposable
{
    /// <summary>The theater's grains.</summary>
    IGrainFactory Grains { get; }
}

/// <summary>What an embedded silo needs beyond the shared options.</summary>
/// <param name="ModelPath">GGUF model the pool loads.</param>
/// <param name="DatabasePath">SQLite file of the durable grain storage.</param>
/// <param name="TraceFile">JSONL file for every span (null: no tracing).</param>
/// <param name="TraceSampling">Share of traces recorded.</param>
internal sealed record EmbeddedSilo(string ModelPath, string DatabasePath, string? TraceFile = null, double TraceSampling = 1.0);

/// <summary>The one way a command opens its theater.</summary>
internal static class Theater
{
    /// <summary>
    /// Connects to the cluster <paramref name="settings"/> names, or starts an embedded silo as <paramref name="silo"/>
    /// describes (it must be given when no cluster is named).
    /// </summary>
    public static async Task<ITheater> OpenAsync(TheaterSettings settings, EmbeddedSilo? silo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Cluster is { } cluster)
        {
            return await RemoteTheater.ConnectAsync(cluster, cancellationToken);
        }

        ArgumentNullException.ThrowIfNull(silo);
        return await StartEmbeddedAsync(settings, silo, cancellationToken);
    }

    /// <summary>Starts an embedded silo (for commands that need its services as well as its grains).</summary>
    public static Task<EmbeddedTheater> StartEmbeddedAsync(TheaterSettings settings, EmbeddedSilo silo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(silo);
        return EmbeddedTheater.StartAsync(
            new EmbeddedTheaterSettings(
                silo.ModelPath,
                silo.DatabasePath,
                settings.Sequences,
                settings.Context,
                settings.LogLevel,
                silo.TraceFile,
                silo.TraceSampling,
                settings.Attribution,
                settings.HostKvMegabytes),
            cancellationToken);
    }
}
