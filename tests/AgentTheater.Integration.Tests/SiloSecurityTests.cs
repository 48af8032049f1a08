using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace AgentTheater.Integration.Tests;

/// <summary>The standalone silo's defences: an open HTTP port needs a key, and with TLS only certificate holders get in.</summary>
public sealed class SiloSecurityTests(TheaterClusterFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Silo_HttpBeyondLoopbackWithoutAnApiKey_RefusesToStart_NamingTheSetting()
    {
        var (process, output, _, _) = TestProcesses.StartSilo("--Http:Address=0.0.0.0");
        using var silo = process;

        await TestProcesses.WaitAsync(silo, TimeSpan.FromMinutes(1));

        Assert.Equal(2, silo.ExitCode);
        var lines = TestProcesses.Text(output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains("Http:ApiKeys", line, StringComparison.Ordinal);
        Assert.Contains("http://0.0.0.0:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithTls_AnswersAClientWithATrustedCertificate_AndNoOtherClient()
    {
        var folder = Path.Combine(fixture.Directory, $"tls-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var cluster = WriteCertificate(Path.Combine(folder, "cluster.pfx"), "cluster");
        var stranger = WriteCertificate(Path.Combine(folder, "stranger.pfx"), "stranger");
        var (process, output, httpPort, gatewayPort) = TestProcesses.StartSilo(
            "--Cluster:ClusterId=tls",
            $"--Cluster:Tls:CertificatePath={cluster}",
            $"--Cluster:Tls:CertificatePassword={Password}",
            "--Logging:LogLevel:Default=Warning");
        using var silo = process;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await TestProcesses.WaitReadyAsync(http, silo, output);
            var environment = new Dictionary<string, string> { ["AGENTTHEATER_Cluster__Tls__CertificatePassword"] = Password };

            // The cluster's own certificate gets in; the status lists the one silo.
            var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync(environment, "cluster", "status", "--cluster", $"127.0.0.1:{gatewayPort}", "--cluster-id", "tls", "--tls-certificate", cluster, "--json");
            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}\nsilo:\n{TestProcesses.Text(output)}");
            Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());

            // A certificate the cluster does not trust, and no TLS at all, do not.
            var clock = Stopwatch.StartNew();
            var untrusted = await RunCommandTests.AgentTheaterAsync(environment, "cluster", "status", "--cluster", $"127.0.0.1:{gatewayPort}", "--cluster-id", "tls", "--tls-certificate", stranger, "--json", "--connect-timeout", "15");
            Assert.NotEqual(0, untrusted.Code);
            var plain = await RunCommandTests.AgentTheaterAsync("cluster", "status", "--cluster", $"127.0.0.1:{gatewayPort}", "--cluster-id", "tls", "--json", "--connect-timeout", "15");
            Assert.NotEqual(0, plain.Code);
            Assert.Contains("--tls-certificate", plain.Stderr, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"refusals took {clock.Elapsed}");
        }
        finally
        {
            await TestProcesses.StopAsync(silo);
        }
    }

    private const string Password = "test-only-password";

    /// <summary>A self-signed certificate with its key, made now, written as a password-protected .pfx.</summary>
    private static string WriteCertificate(string path, string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }
}
