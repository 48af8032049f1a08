using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// A redis-server of the test's own on a free loopback port, with nothing persisted (<c>--save "" --appendonly no</c>,
/// files in a temporary folder); disposing kills it.
/// </summary>
internal sealed class RedisTestServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private RedisTestServer(Process process, StringBuilder output, int port)
    {
        _process = process;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    /// <summary>StackExchange.Redis configuration string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisTestServer> StartAsync(string directory)
    {
        var executable = Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "redis-server"))
            .FirstOrDefault(File.Exists);
        Assert.True(executable is not null, "redis-server is not installed: apt-get install redis-server (.ci/run installs it).");
        Directory.CreateDirectory(directory);
        var port = TestProcesses.FreePort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var server = new RedisTestServer(process, TestProcesses.Collect(process), port);
        try
        {
            await server.WaitForPongAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await TestProcesses.StopAsync(_process);

    private async Task WaitForPongAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            Assert.False(_process.HasExited, $"redis-server exited:\n{TestProcesses.Text(_output)}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port, TestContext.Current.CancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"redis-server did not answer in 30 s:\n{TestProcesses.Text(_output)}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }
}
