using AgentTheater.Inference.Engine;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>
/// Feeds the pool instruments of <see cref="TheaterTelemetry"/> from this silo's <see cref="InferencePool"/> until the
/// silo stops. Observation starts when the silo loads its model at start (<c>InferencePoolStartup</c>).
/// </summary>
public sealed class InferencePoolTelemetry : IDisposable
{
    private readonly Lock _lock = new();
    private IDisposable? _observation;
    private bool _disposed;

    /// <summary>The pool, once the silo has loaded it; null before, and on a silo without a model (reading it never loads one).</summary>
    public InferencePool? Pool { get; private set; }

    /// <summary>Starts observing <paramref name="pool"/> (the silo's start calls it; later calls change nothing).</summary>
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
