using Microsoft.Extensions.Logging;

namespace AgentTheater.Client.Hosting;

/// <summary>Console logging for commands that drive llama.cpp directly (no host).</summary>
internal static class CommandLogging
{
    /// <summary>
    /// Warnings and above on one line each; from llama.cpp only errors (it warns about every context smaller than
    /// the model's training context).
    /// </summary>
    public static ILoggerFactory LlamaErrorsOnly() =>
        LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddFilter("llama.cpp", LogLevel.Error));
}
