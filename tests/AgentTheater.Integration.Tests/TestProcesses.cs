using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace AgentTheater.Integration.Tests;

/// <summary>Programs the end-to-end tests run as processes: the standalone silo, the CLI, redis-server.</summary>
internal static class TestProcesses
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>The silo built with the tests (its path is written into this assembly by the test project).</summary>
    public static string SiloAssembly()
    {
        var path = Path.GetFullPath(typeof(TestProcesses).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SiloAssembly").Value!);
        Assert.True(File.Exists(path), $"{path} is missing: build the solution (the silo is built with the tests).");
        return path;
    }

    /// <summary>
    /// A standalone silo on free loopback ports with memory storage and <paramref name="settings"/> (<c>--Key=value</c>,
    /// which win over these), its output collected as it comes.
    /// </summary>
    public static (Process Process, StringBuilder Output, int HttpPort, int GatewayPort) StartSilo(params string[] settings)
    {
        var (httpPort, siloPort, gatewayPort) = (FreePort(), FreePort(), FreePort());
        var process = StartDotnet(SiloAssembly(), [$"--Http:Port={httpPort}", $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", "--Storage:Provider=Memory", .. settings]);
        return (process, Collect(process), httpPort, gatewayPort);
    }

    /// <summary>The CLI, next to the tests.</summary>
    public static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "agent-theater.dll");

    /// <summary>Runs <c>dotnet <paramref name="assembly"/></c> in the assembly's folder (where its appsettings.json is).</summary>
    public static Process StartDotnet(string assembly, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(assembly)! };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>Everything the process writes to stdout and stderr, as it comes.</summary>
    public static StringBuilder Collect(Process process)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }

    /// <summary>What <paramref name="output"/> holds now.</summary>
    public static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>Waits until the silo's <c>/health/ready</c> answers 200.</summary>
    public static async Task WaitReadyAsync(HttpClient http, Process silo, StringBuilder output)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            Assert.False(silo.HasExited, $"the silo exited with {(silo.HasExited ? silo.ExitCode : 0)}:\n{Text(output)}");
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"the silo was not ready in 2 minutes:\n{Text(output)}");
            await Task.Delay(TimeSpan.FromMilliseconds(250), Cancel);
        }
    }

    /// <summary>Waits for the process to exit; kills it (and fails) past <paramref name="limit"/>.</summary>
    public static async Task WaitAsync(Process process, TimeSpan limit)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>Kills the process if it still runs and waits for it; never throws.</summary>
    public static async Task StopAsync(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        finally
        {
            process.Dispose();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
