using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.RegularExpressions;
using AgentTheater.Grains.Attribution;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Inference.Engine;
using AgentTheater.Silo.Hosting;
using AgentTheater.Web.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentTheater.Silo.Tests;

/// <summary>
/// deploy/ cannot be run here (no container engine), so its files are checked against the code: every file parses, every
/// environment variable binds to a real setting of the silo, every port is one the silo is configured to listen on.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(AppContext.BaseDirectory, "deploy");

    /// <summary>The health endpoints the silo maps (MapTheaterEndpoints).</summary>
    private static readonly string[] HealthPaths = ["/health/live", "/health/ready"];

    /// <summary>What a secret file holds, for binding: long enough to be a valid API key.</summary>
    private const string SecretPlaceholder = "a-secret-from-a-file-0123456789";

    private static readonly string[] Probes = ["livenessProbe", "readinessProbe"];

    [Fact]
    public void DeployFiles_Parse_EveryYamlFileAndDockerfile()
    {
        var yaml = Directory.EnumerateFiles(Deploy, "*.y*ml", SearchOption.AllDirectories).ToList();
        Assert.Contains(yaml, f => f.EndsWith("docker-compose.yml", StringComparison.Ordinal));
        Assert.True(yaml.Count(f => f.Contains($"{Path.DirectorySeparatorChar}k8s{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) >= 3);
        foreach (var file in yaml)
        {
            var documents = Load(file);
            Assert.True(documents.Count > 0, $"{file} holds no YAML document");
        }

        foreach (var dockerfile in Directory.EnumerateFiles(Path.Combine(Deploy, "docker"), "*.Dockerfile"))
        {
            var instructions = Dockerfile(dockerfile);
            Assert.True(instructions.Count(i => i.Instruction == "FROM") >= 2, $"{dockerfile} is not multi-stage");
            Assert.Contains(instructions, i => i.Instruction == "ENTRYPOINT");
        }
    }

    [Fact]
    public void DeployFiles_Secrets_ComeFromSecretFiles_AndNothingIsOpenWithoutOne()
    {
        var compose = (YamlMappingNode)Load(Path.Combine(Deploy, "docker-compose.yml"))[0].RootNode;
        var services = (YamlMappingNode)compose["services"];

        // Redis asks for a password, read from a secret; Grafana has an admin password from a secret and no anonymous admin.
        var redis = (YamlMappingNode)services["redis"];
        Assert.Contains("--requirepass", string.Join(' ', ((YamlSequenceNode)redis["command"]).Children.Select(c => ((YamlScalarNode)c).Value)), StringComparison.Ordinal);
        Assert.Contains("redis_password", ComposeSecretTargets(redis));
        var grafana = Environment((YamlMappingNode)services["grafana"]);
        Assert.NotEqual("Admin", grafana.GetValueOrDefault("GF_AUTH_ANONYMOUS_ORG_ROLE"));
        Assert.Equal("false", grafana["GF_AUTH_ANONYMOUS_ENABLED"]);
        Assert.Equal("/run/secrets/grafana_admin_password", grafana["GF_SECURITY_ADMIN_PASSWORD__FILE"]);

        // Every silo mounts the API key and the Redis password as the settings they are; no environment holds a secret.
        foreach (var (name, service) in services.Children.Select(p => (((YamlScalarNode)p.Key).Value!, (YamlMappingNode)p.Value)).Where(s => IsSilo(s.Item2)))
        {
            Assert.Contains("Http__ApiKeys__0", ComposeSecretTargets(service));
            Assert.Contains("Cluster__RedisPassword", ComposeSecretTargets(service));
        }

        var everyValue = Directory.EnumerateFiles(Deploy, "*.y*ml", SearchOption.AllDirectories).Select(File.ReadAllText);
        Assert.All(everyValue, text => Assert.DoesNotMatch("(?i)(password=(?!\\$)|ApiKeys__0:\\s*\\S|requirepass\\s+[a-z0-9])", text));

        // Published ports listen on the host's loopback only.
        foreach (var service in services.Children.Select(p => (YamlMappingNode)p.Value).Where(s => s.Children.ContainsKey(new YamlScalarNode("ports"))))
        {
            Assert.All(((YamlSequenceNode)service["ports"]).Children.Select(p => ((YamlScalarNode)p).Value!), p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void DeployFiles_SiloEnvironment_EveryKeyBindsToARealSetting()
    {
        var checkedSilos = 0;
        foreach (var (where, environment) in SiloEnvironments())
        {
            Bind(where, environment);
            checkedSilos++;
        }

        Assert.True(checkedSilos >= 5, $"found {checkedSilos} silo configurations (three in docker-compose, two in k8s)");
    }

    [Fact]
    public void DeployFiles_Ports_AreThePortsTheSiloIsConfiguredFor()
    {
        // Dockerfile: EXPOSE lists exactly the ports its ENV configures.
        var dockerfile = Dockerfile(Path.Combine(Deploy, "docker", "silo.Dockerfile"));
        var imageEnvironment = ImageEnvironment();
        Assert.Equal(Bind("silo.Dockerfile", imageEnvironment).Order(), dockerfile.Where(i => i.Instruction == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order());

        // docker-compose: each silo exposes and publishes only its configured ports; references to other services use ports they expose.
        var compose = (YamlMappingNode)Load(Path.Combine(Deploy, "docker-compose.yml"))[0].RootNode;
        var services = (YamlMappingNode)compose["services"];
        foreach (var (name, service) in services.Children.Select(p => (((YamlScalarNode)p.Key).Value!, (YamlMappingNode)p.Value)))
        {
            var environment = Environment(service);
            if (IsSilo(service))
            {
                var configured = Bind($"docker-compose {name}", environment);
                foreach (var port in ContainerPorts(service))
                {
                    Assert.True(configured.Contains(port), $"docker-compose {name}: port {port} is not one the silo listens on ({string.Join(", ", configured)})");
                }

                Assert.Contains(configured.Http, ContainerPorts(service));
            }

            foreach (var (key, value) in environment)
            {
                if (Endpoint().Match(value) is { Success: true } endpoint && services.Children.ContainsKey(new YamlScalarNode(endpoint.Groups["host"].Value)))
                {
                    var target = (YamlMappingNode)services[endpoint.Groups["host"].Value];
                    Assert.True(ContainerPorts(target).Contains(int.Parse(endpoint.Groups["port"].Value, CultureInfo.InvariantCulture)), $"docker-compose {name}: {key}={value}, a port {endpoint.Groups["host"].Value} does not expose");
                }
            }
        }

        // Prometheus scrapes each compose silo on its HTTP port.
        var prometheus = (YamlMappingNode)Load(Path.Combine(Deploy, "prometheus", "prometheus-compose.yml"))[0].RootNode;
        var targets = ((YamlSequenceNode)prometheus["scrape_configs"]).Children.Cast<YamlMappingNode>()
            .SelectMany(c => ((YamlSequenceNode)c["static_configs"]).Children.Cast<YamlMappingNode>())
            .SelectMany(c => ((YamlSequenceNode)c["targets"]).Children.Select(t => ((YamlScalarNode)t).Value!))
            .ToList();
        var silos = services.Children.Where(p => IsSilo((YamlMappingNode)p.Value)).ToList();
        Assert.Equal(silos.Count, targets.Count);
        foreach (var silo in silos)
        {
            var http = Bind("compose", Environment((YamlMappingNode)silo.Value)).Http;
            Assert.Contains($"{((YamlScalarNode)silo.Key).Value}:{http}", targets);
        }

        // Kubernetes: container ports are the configured ones; Services and probes name ports the pods have; probes hit the health endpoints.
        var manifests = Directory.EnumerateFiles(Path.Combine(Deploy, "k8s"), "*.yaml").SelectMany(Load).Select(d => (YamlMappingNode)d.RootNode).ToList();
        var pods = manifests.Where(m => Scalar(m, "kind") == "Deployment").Select(m => (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)m["spec"])["template"])).ToList();
        foreach (var deployment in manifests.Where(m => Scalar(m, "kind") == "Deployment"))
        {
            var name = Scalar((YamlMappingNode)deployment["metadata"], "name");
            foreach (var container in Containers(deployment))
            {
                var named = Sequence(container, "ports").Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name"), p => int.Parse(Scalar(p, "containerPort"), CultureInfo.InvariantCulture));
                foreach (var probe in Probes.Where(p => container.Children.ContainsKey(new YamlScalarNode(p))))
                {
                    if (((YamlMappingNode)container[probe]).Children.TryGetValue(new YamlScalarNode("httpGet"), out var get))
                    {
                        Assert.Contains(Scalar((YamlMappingNode)get, "path"), HealthPaths);
                        Assert.True(named.ContainsKey(Scalar((YamlMappingNode)get, "port")), $"k8s {name}: {probe} names a port the container does not have");
                    }
                }

                if (Scalar(container, "image").StartsWith("agent-theater-silo", StringComparison.Ordinal))
                {
                    var configured = Bind($"k8s {name}", K8sEnvironment(container).Concat(K8sSecretFiles(deployment, container)).ToDictionary());
                    Assert.All(named.Values, port => Assert.True(configured.Contains(port), $"k8s {name}: port {port} is not one the silo listens on"));
                    Assert.Equal(configured.Http, named["http"]);
                    Assert.True(container.Children.ContainsKey(new YamlScalarNode("livenessProbe")) && container.Children.ContainsKey(new YamlScalarNode("readinessProbe")), $"k8s {name}: the silo needs liveness and readiness probes");
                }
            }
        }

        foreach (var service in manifests.Where(m => Scalar(m, "kind") == "Service"))
        {
            var selector = ((YamlMappingNode)((YamlMappingNode)service["spec"])["selector"]).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!);
            var selected = pods.Where(p => selector.All(s => Labels(p).TryGetValue(s.Key, out var v) && v == s.Value)).ToList();
            Assert.True(selected.Count > 0, $"k8s Service {Scalar((YamlMappingNode)service["metadata"], "name")} selects no pod");
            foreach (var port in Sequence((YamlMappingNode)service["spec"], "ports").Cast<YamlMappingNode>())
            {
                var target = Scalar(port, "targetPort");
                Assert.All(selected, pod => Assert.Contains(target, PodPortNames(pod)));
            }
        }
    }

    /// <summary>Every silo's environment: docker-compose services built from the silo image, k8s silo containers; each over the image's ENV.</summary>
    private static IEnumerable<(string Where, Dictionary<string, string> Environment)> SiloEnvironments()
    {
        var compose = (YamlMappingNode)Load(Path.Combine(Deploy, "docker-compose.yml"))[0].RootNode;
        foreach (var service in ((YamlMappingNode)compose["services"]).Children.Where(p => IsSilo((YamlMappingNode)p.Value)))
        {
            yield return ($"docker-compose service {((YamlScalarNode)service.Key).Value}", Environment((YamlMappingNode)service.Value));
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(Deploy, "k8s"), "*.yaml"))
        {
            foreach (var deployment in Load(file).Select(d => (YamlMappingNode)d.RootNode).Where(m => Scalar(m, "kind") == "Deployment"))
            {
                foreach (var container in Containers(deployment).Where(c => Scalar(c, "image").StartsWith("agent-theater-silo", StringComparison.Ordinal)))
                {
                    yield return ($"{Path.GetFileName(file)} container {Scalar(container, "name")}", K8sEnvironment(container).Concat(K8sSecretFiles(deployment, container)).ToDictionary());
                }
            }
        }
    }

    /// <summary>
    /// Binds an environment (over the silo's appsettings.json and its image's ENV) to the silo's real options classes
    /// (TheaterSiloHostingExtensions binds the same sections to the same classes),
    /// failing on any key no class has and on any value a class rejects.
    /// </summary>
    private static SiloPorts Bind(string where, IReadOnlyDictionary<string, string> environment)
    {
        var merged = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in ImageEnvironment().Concat(environment))
        {
            merged[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(RepositoryFiles.Path("src", "Silo", "appsettings.json"))
            .AddInMemoryCollection(merged)
            .Build();
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
        {
            [TheaterClusterOptions.SectionName] = typeof(TheaterClusterOptions),
            [TheaterStorageOptions.SectionName] = typeof(TheaterStorageOptions),
            [TheaterHttpOptions.SectionName] = typeof(TheaterHttpOptions),
            [InferencePoolOptions.SectionName] = typeof(InferencePoolOptions),
            [AttributionOptions.SectionName] = typeof(AttributionOptions),
            [TelemetryOptions.SectionName] = typeof(TelemetryOptions),
        };
        foreach (var key in merged.Keys)
        {
            var section = key.Split(':')[0];
            Assert.True(sections.ContainsKey(section) || section.Equals("Logging", StringComparison.OrdinalIgnoreCase), $"{where}: '{key}' is in no section the silo reads");
        }

        var bound = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, type) in sections)
        {
            var section = configuration.GetSection(name);
            object? options;
            try
            {
                // Cluster:Membership is Orleans' own ClusterMembershipOptions, bound apart from the theater's cluster options.
                options = name == "Cluster" ? BindExcept(section, type, "Membership") : section.Get(type, o => o.ErrorOnUnknownConfiguration = true);
                section.GetSection("Membership").Get<ClusterMembershipOptions>(o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException e)
            {
                Assert.Fail($"{where}: {e.Message}");
                throw;
            }

            options ??= Activator.CreateInstance(type)!;
            if (options is InferencePoolOptions { ModelPath.Length: 0 })
            {
                // A silo without a model has no pool: its Inference section is never validated (TheaterSiloHostingExtensions).
                continue;
            }

            var results = new List<ValidationResult>();
            Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true), $"{where}: section {name}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
            bound[name] = options;
        }

        var cluster = (TheaterClusterOptions)bound[TheaterClusterOptions.SectionName];
        return new SiloPorts(((TheaterHttpOptions)bound[TheaterHttpOptions.SectionName]).Port, cluster.SiloPort, cluster.GatewayPort);
    }

    private static object? BindExcept(IConfigurationSection section, Type type, string child)
    {
        var copy = new ConfigurationBuilder().AddInMemoryCollection(
            section.AsEnumerable(makePathsRelative: true)
                .Where(p => p.Value is not null && !p.Key.StartsWith(child, StringComparison.OrdinalIgnoreCase))
                .Select(p => KeyValuePair.Create(p.Key, p.Value)))
            .Build();
        return copy.Get(type, o => o.ErrorOnUnknownConfiguration = true);
    }

    private sealed record SiloPorts(int Http, int Silo, int Gateway) : IEnumerable<int>
    {
        public bool Contains(int port) => port == Http || port == Silo || port == Gateway;

        public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)[Http, Silo, Gateway]).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static Dictionary<string, string> ImageEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instruction in Dockerfile(Path.Combine(Deploy, "docker", "silo.Dockerfile")).Where(i => i.Instruction == "ENV"))
        {
            foreach (Match pair in EnvPair().Matches(instruction.Arguments))
            {
                environment[pair.Groups["key"].Value] = pair.Groups["value"].Value;
            }
        }

        return environment;
    }

    private static bool IsSilo(YamlMappingNode service) =>
        service.Children.TryGetValue(new YamlScalarNode("build"), out var build) && build is YamlMappingNode b && Scalar(b, "dockerfile").EndsWith("silo.Dockerfile", StringComparison.Ordinal);

    /// <summary>A compose service's environment, with each secret it mounts as the setting its file is named after.</summary>
    private static Dictionary<string, string> Environment(YamlMappingNode service)
    {
        var variables = service.Children.TryGetValue(new YamlScalarNode("environment"), out var environment)
            ? ((YamlMappingNode)environment).Children.Where(p => ((YamlScalarNode)p.Key).Value != "<<").ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!)
            : [];
        foreach (var file in ComposeSecretTargets(service))
        {
            variables[file] = SecretPlaceholder;
        }

        return variables;
    }

    /// <summary>The file names a compose service's secrets are mounted under (its own list, or the one it merges in).</summary>
    private static IEnumerable<string> ComposeSecretTargets(YamlMappingNode service)
    {
        var own = service.Children.TryGetValue(new YamlScalarNode("secrets"), out var list) ? list
            : service.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && ((YamlMappingNode)merged).Children.TryGetValue(new YamlScalarNode("secrets"), out var inherited) ? inherited
            : null;
        return own is null ? [] : ((YamlSequenceNode)own).Children.Select(e => e is YamlMappingNode m ? Scalar(m, "target") : ((YamlScalarNode)e).Value!);
    }

    /// <summary>The settings a pod's container gets as secret files under /run/secrets (the secret volume's item paths).</summary>
    private static Dictionary<string, string> K8sSecretFiles(YamlMappingNode deployment, YamlMappingNode container)
    {
        var mounted = Sequence(container, "volumeMounts").Cast<YamlMappingNode>().Where(m => Scalar(m, "mountPath") == "/run/secrets").Select(m => Scalar(m, "name")).ToHashSet();
        var pod = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"];
        return Sequence(pod, "volumes").Cast<YamlMappingNode>()
            .Where(v => mounted.Contains(Scalar(v, "name")) && v.Children.ContainsKey(new YamlScalarNode("secret")))
            .SelectMany(v => Sequence((YamlMappingNode)v["secret"], "items").Cast<YamlMappingNode>())
            .ToDictionary(i => Scalar(i, "path"), _ => SecretPlaceholder);
    }

    private static HashSet<int> ContainerPorts(YamlMappingNode service)
    {
        var ports = new HashSet<int>();
        foreach (var key in new[] { "expose", "ports" })
        {
            if (service.Children.TryGetValue(new YamlScalarNode(key), out var list))
            {
                foreach (var entry in ((YamlSequenceNode)list).Children.Select(e => ((YamlScalarNode)e).Value!))
                {
                    ports.Add(int.Parse(entry.Split(':')[^1], CultureInfo.InvariantCulture));
                }
            }
        }

        return ports;
    }

    private static Dictionary<string, string> K8sEnvironment(YamlMappingNode container) =>
        Sequence(container, "env").Cast<YamlMappingNode>().ToDictionary(
            e => Scalar(e, "name"),
            e => e.Children.ContainsKey(new YamlScalarNode("value")) ? Scalar(e, "value") : "10.0.0.1"); // valueFrom: a pod's IP or name

    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode deployment) =>
        Sequence((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"], "containers").Cast<YamlMappingNode>();

    private static Dictionary<string, string> Labels(YamlMappingNode podTemplate) =>
        ((YamlMappingNode)((YamlMappingNode)podTemplate["metadata"])["labels"]).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!);

    private static IEnumerable<string> PodPortNames(YamlMappingNode podTemplate) =>
        Sequence((YamlMappingNode)podTemplate["spec"], "containers").Cast<YamlMappingNode>().SelectMany(c => Sequence(c, "ports").Cast<YamlMappingNode>()).Select(p => Scalar(p, "name"));

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlSequenceNode)value).Children : [];

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value ?? string.Empty : string.Empty;

    /// <summary>Every document of a YAML file, with merge keys (<c>&lt;&lt;: *anchor</c>) applied.</summary>
    private static List<YamlDocument> Load(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new MergingParser(new Parser(reader)));
        }
        catch (YamlException e)
        {
            Assert.Fail($"{path}: {e.Message}");
        }

        return [.. stream.Documents];
    }

    /// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped).</summary>
    private static List<(string Instruction, string Arguments)> Dockerfile(string path)
    {
        var instructions = new List<(string, string)>();
        var text = string.Join('\n', File.ReadAllLines(path).Where(l => !l.TrimStart().StartsWith('#')));
        foreach (var line in text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n').Where(l => l.Trim().Length > 0))
        {
            var parts = line.Trim().Split(' ', 2);
            Assert.Matches("^[A-Z]+$", parts[0]);
            instructions.Add((parts[0], parts.Length > 1 ? parts[1].Trim() : string.Empty));
        }

        return instructions;
    }

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\S+)")]
    private static partial Regex EnvPair();

    [GeneratedRegex(@"^(?:[a-z]+://)?(?<host>[a-z][a-z0-9-]*):(?<port>\d+)")]
    private static partial Regex Endpoint();
}
