using System.ComponentModel.DataAnnotations;

namespace AgentTheater.Silo.Hosting;

/// <summary>How this silo joins its cluster (section <c>Cluster</c>).</summary>
public sealed class TheaterClusterOptions
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
}

/// <summary>Where grain state goes (section <c>Storage</c>).</summary>
public sealed class TheaterStorageOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Storage";

    /// <summary><c>Sqlite</c> (durable, one machine) or <c>Memory</c> (tests only: lost on restart).</summary>
    [Required, RegularExpression("^(Sqlite|Memory)$", ErrorMessage = "Storage:Provider must be Sqlite or Memory.")]
    public string Provider { get; set; } = "Sqlite";

    /// <summary>SQLite database file.</summary>
    public string SqlitePath { get; set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".agent-theater", "state.db");
}

/// <summary>This silo's HTTP endpoint (section <c>Http</c>): health and status.</summary>
public sealed class TheaterHttpOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Http";

    /// <summary>Port of the HTTP endpoints.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 8080;
}
