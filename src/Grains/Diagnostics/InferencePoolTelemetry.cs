using AgentTheater.Inference.Engine;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>
/// Feeds the pool instruments of <see cref="TheaterTelemetry"/> from this silo's <see cref="InferencePool"/> until the
/// silo stops. Observation starts at the pool's first use: the model loads on first use, and observing it at silo
/// start would load it then.
/// </summary>
public sealed class InferencePoolTelemetry : IDisposable
{
    private readonly Lock _lock = new();
    private IDisposable? _observation;
    private bool _disposed;

    /// <summary>The pool, once the first inference call has loaded it; null before (reading it never loads the model).</summary>
    public InferencePool? Pool { get; private set; }

    /// <summary>Starts observing <paramref name="pool"/> (the inference grain calls it on activation; later calls change nothing).</summary>
    public void Observe(InferencePool pool)
    {
        lock (_lock)
        {
            Pool = pool;
            if (!_disposed)
            {
                _observation ??= TheaterTelemetry.Observe(pool);
            }
        }
    }

    /// <summary>Stops observing.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _observation?.Dispose();
        }
    }
}
