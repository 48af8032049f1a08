namespace AgentTheater.Grains.Hosting;

/// <summary>
/// Where secrets come from: files named after the setting they hold (<c>Http__ApiKeys__0</c>,
/// <c>Cluster__RedisPassword</c>) in one folder, as Docker and Kubernetes mount them. The silo reads the folder as
/// configuration; the command line reads the few secrets it needs from it.
/// </summary>
public static class TheaterSecrets
{
    /// <summary>The environment variable naming the folder (default <see cref="DefaultDirectory"/>).</summary>
    public const string DirectoryVariable = "AGENT_THEATER_SECRETS";

    /// <summary>Where Docker and Kubernetes mount secrets.</summary>
    public const string DefaultDirectory = "/run/secrets";

    /// <summary>The folder of secret files this process reads.</summary>
    public static string Directory => Environment.GetEnvironmentVariable(DirectoryVariable) ?? DefaultDirectory;
}
