using AgentTheater.Inference.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentTheater.Grains.Inference;

/// <summary>
/// A silo's model check before its host starts: a model the pool could not load stops the silo before it listens or
/// joins its cluster, with one log line (event 3602) naming the file and what is wrong with it.
/// </summary>
public static partial class InferenceModelCheck
{
    /// <summary>The exit code of a silo whose model fails the check (the command line's for a bad input file).</summary>
    public const int ExitCode = 3;

    /// <summary>
    /// Checks the model of the silo's inference pool with <see cref="ModelFile.Check"/> (nothing to check on a silo
    /// without a pool).
    /// </summary>
    /// <param name="services">The silo host's services.</param>
    /// <returns>False when the model fails; the reason has been logged.</returns>
    public static bool Passes(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(InferencePool)))
        {
            return true;
        }

        var options = services.GetRequiredService<IOptions<InferencePoolOptions>>().Value;
        try
        {
            // llama.cpp's own log stays quiet here (the failure is the one line below); the pool gives it a logger.
            ModelFile.Check(options.ModelPath, string.IsNullOrWhiteSpace(options.NativeDirectory) ? null : options.NativeDirectory);
            return true;
        }
        catch (ModelFileException e)
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InferenceModelCheck));
            LogModelRejected(logger, e.FilePath, e.Problem);
            return false;
        }
    }

    /// <summary>The one line of a model the silo cannot load: the same as the command line's error.</summary>
    [LoggerMessage(EventId = 3602, Level = LogLevel.Critical, Message = "{ModelPath}: {Problem}")]
    internal static partial void LogModelRejected(ILogger logger, string modelPath, string problem);
}
