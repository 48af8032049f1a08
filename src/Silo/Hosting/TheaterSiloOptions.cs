using AgentTheater.Grains.Cluster;
using System.ComponentModel.DataAnnotations;

namespace AgentTheater.Silo.Hosting;

/// <summary>How a standalone silo (src/Silo) joins its cluster (section <c>Cluster</c>).</summary>
public sealed class TheaterClusterOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Cluster";

    /// <summary><c>Localhost</c> (development: silos on one machine) or <c>Redis</c>.</summary>
    [Required, RegularExpression("^(Localhost|Redis)$", ErrorMessage = "Cluster:Provider must be Localhost or Redis.")]
    public string Provider { get; set; } = "Localhost";

    /// <summary>Cluster id, the same for every silo and client of one deployment.</summary>
    [Required]
    public string ClusterId { get; set; } = "agent-theater";

    /// <summary>Service id, stable across deployments (storage is keyed by it).</summary>
    [Required]
    public string ServiceId { get; set; } = "agent-theater";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost provider: the first silo's endpoint (host:port); empty on the first silo itself.</summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary>
    /// Redis provider: the StackExchange.Redis configuration string of the membership table (e.g. <c>redis:6379</c>);
    /// silos register there and clients find the gateways there.
    /// </summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>
    /// The Redis password, apart from the connection string so it can come from a secret file (<c>Cluster__RedisPassword</c>);
    /// it replaces a <c>password=</c> in the connection strings. TLS and the rest go in the connection string
    /// (<c>redis:6380,ssl=true,sslHost=redis</c>).
    /// </summary>
    public string? RedisPassword { get; set; }

    /// <summary>
    /// Redis provider: the address other silos and clients reach this one at (e.g. the pod IP); empty for this host's
    /// first IPv4 address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>
    /// Redis provider: the address the silo and gateway ports listen on; empty for the advertised address only, <c>0.0.0.0</c>
    /// for every address (a container whose advertised address is not its own, behind NAT).
    /// </summary>
    public string? ListenIPAddress { get; set; }

    /// <summary>Name of this silo in membership and in <c>agent-theater cluster status</c>; empty for Orleans' default.</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// Silo metadata this silo declares, published to the cluster (e.g. <c>Cluster:Metadata:gpu=true</c>, as an
    /// environment variable <c>Cluster__Metadata__gpu=true</c>). The model is added from <c>Inference:ModelPath</c>.
    /// </summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    /// <summary>Mutual TLS between silos and with clients (<c>Cluster:Tls:CertificatePath</c>, ...); off when no certificate is set.</summary>
    public ClusterTlsSettings Tls { get; set; } = new();

    /// <summary>Rules across settings.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (Provider == "Redis" && string.IsNullOrWhiteSpace(RedisConnectionString))
        {
            yield return new ValidationResult("Cluster:RedisConnectionString is required when Cluster:Provider is Redis.", [nameof(RedisConnectionString)]);
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedIPAddress) && !System.Net.IPAddress.TryParse(AdvertisedIPAddress, out _))
        {
            yield return new ValidationResult($"Cluster:AdvertisedIPAddress '{AdvertisedIPAddress}' is not an IP address.", [nameof(AdvertisedIPAddress)]);
        }

        if (!string.IsNullOrWhiteSpace(ListenIPAddress) && !System.Net.IPAddress.TryParse(ListenIPAddress, out _))
        {
            yield return new ValidationResult($"Cluster:ListenIPAddress '{ListenIPAddress}' is not an IP address.", [nameof(ListenIPAddress)]);
        }
    }
}

/// <summary>Where grain state goes (section <c>Storage</c>).</summary>
public sealed class TheaterStorageOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Storage";

    /// <summary>
    /// <c>Sqlite</c> (durable, one machine), <c>Redis</c> (durable, shared by every silo of a cluster) or <c>Memory</c>
    /// (tests only: lost on restart).
    /// </summary>
    [Required, RegularExpression("^(Sqlite|Redis|Memory)$", ErrorMessage = "Storage:Provider must be Sqlite, Redis or Memory.")]
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Redis provider: StackExchange.Redis configuration string; empty for <c>Cluster:RedisConnectionString</c>.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>SQLite database file.</summary>
    public string SqlitePath { get; set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".agent-theater", "state.db");
}
