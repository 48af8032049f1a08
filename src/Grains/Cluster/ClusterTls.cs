using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace AgentTheater.Grains.Cluster;

/// <summary>
/// TLS between silos and between clients and gateways (section <c>Cluster:Tls</c>): every member presents a
/// certificate and requires one from the other side (mutual TLS), so only holders of a trusted certificate can join the
/// cluster or call its grains.
/// </summary>
public sealed class ClusterTlsSettings
{
    /// <summary>The PKCS#12 (.pfx) file of this member's certificate with its private key; empty for no TLS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its password (from a secret file: <c>Cluster__Tls__CertificatePassword</c>).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// SHA-1 thumbprints of the other certificates accepted besides this member's own (a cluster can share one
    /// certificate, self-signed or not). Nothing else is accepted: a certificate a public authority signed proves who
    /// someone is, not that they belong to this cluster.
    /// </summary>
    public List<string> TrustedThumbprints { get; set; } = [];

    /// <summary>True when a certificate is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Applies <see cref="ClusterTlsSettings"/> to a silo or a client.</summary>
public static class ClusterTls
{
    /// <summary>Turns on mutual TLS for the silo's silo and gateway connections.</summary>
    /// <exception cref="FileNotFoundException">The certificate file does not exist.</exception>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterTlsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(settings);
        var certificate = Load(settings);
        return silo.UseTls(certificate, options => Configure(options, certificate, settings));
    }

    /// <summary>Turns on mutual TLS for the client's gateway connections.</summary>
    /// <exception cref="FileNotFoundException">The certificate file does not exist.</exception>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterTlsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        var certificate = Load(settings);
        return client.UseTls(certificate, options => Configure(options, certificate, settings));
    }

    /// <summary>Whether <paramref name="remote"/> may connect: it is this member's own certificate or one trusted by thumbprint.</summary>
    public static bool IsTrusted(X509Certificate2 local, IReadOnlyCollection<string> trustedThumbprints, X509Certificate2? remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(trustedThumbprints);
        if (remote is null)
        {
            return false;
        }

        var thumbprint = remote.Thumbprint;
        return string.Equals(thumbprint, local.Thumbprint, StringComparison.OrdinalIgnoreCase)
            || trustedThumbprints.Any(t => string.Equals(t.Replace(":", string.Empty, StringComparison.Ordinal).Trim(), thumbprint, StringComparison.OrdinalIgnoreCase));
    }

    private static X509Certificate2 Load(ClusterTlsSettings settings)
    {
        var path = settings.CertificatePath ?? throw new ArgumentException("Cluster:Tls:CertificatePath is not set.", nameof(settings));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Cluster:Tls:CertificatePath: '{path}' does not exist.", path);
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, settings.CertificatePassword);
        return certificate.HasPrivateKey
            ? certificate
            : throw new ArgumentException($"Cluster:Tls:CertificatePath: '{path}' holds no private key.", nameof(settings));
    }

    private static void Configure(TlsOptions options, X509Certificate2 certificate, ClusterTlsSettings settings)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        var trusted = settings.TrustedThumbprints.ToList();
        options.RemoteCertificateValidation = (remote, _, _) => IsTrusted(certificate, trusted, remote);

        // Members are reached by address, not by the name in the certificate: the thumbprint check stands for the name check.
        options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }
}
