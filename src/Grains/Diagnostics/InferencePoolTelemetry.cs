using AgentTheater.Inference.Engine;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>
/// Feeds the pool instruments of <see cref="TheaterTelemetry"/> from this silo's <see cref="InferencePool"/> until the
/// silo stops. Observation starts at the pool's first use: the model loads on first use, and observing it at silo
/// start would load it then.
/// </summary>
internal sealed class InferencePoolTelemetry : IDisposable
{
    private readonly Lock _lock = new();
    private IDisposable? _observation;
    private bool _disposed;

    public void Observe(InferencePool pool)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _observation ??= TheaterTelemetry.Observe(pool);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _observation?.Dispose();
        }
    }
}
