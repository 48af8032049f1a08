using System.Diagnostics;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// Loads the silo's model while the silo starts, before it takes grain calls: otherwise the first inference grain
/// activation would load it on an Orleans scheduler thread (a turn of a second or more), and a model that cannot be
/// loaded would fail every scene instead of the silo's start. The pool's metrics are observed from then on.
/// </summary>
internal sealed partial class InferencePoolStartup(IServiceProvider services, InferencePoolTelemetry telemetry, ILogger<InferencePoolStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(InferencePoolStartup), ServiceLifecycleStage.ApplicationServices, _ =>
        {
            var started = Stopwatch.GetTimestamp();
            InferencePool pool;
            try
            {
                pool = services.GetRequiredService<InferencePool>();
            }
            catch (ModelFileException e)
            {
                // Checked before the host started (InferenceModelCheck), so the file changed since, or llama.cpp refused
                // the GPU load the check does not do: the same line, then the silo's start fails.
                InferenceModelCheck.LogModelRejected(logger, e.FilePath, e.Problem);
                throw;
            }

            telemetry.Observe(pool);
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogLoaded(logger, pool.Model.Path, milliseconds);
            return Task.CompletedTask;
        });
    }

    [LoggerMessage(EventId = 3601, Level = LogLevel.Information, Message = "Inference pool ready: model {Model} loaded in {Milliseconds:F0} ms")]
    private static partial void LogLoaded(ILogger logger, string model, double milliseconds);
}
