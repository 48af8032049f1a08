using System.CommandLine;
using AgentTheater.Client.Commands;
using AgentTheater.Client.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Client.Tests;

/// <summary>The one option set every theater command shares, and what it reads.</summary>
public sealed class TheaterOptionsTests
{
    private static readonly PoolDefaults Defaults = new(Sequences: 64, Context: 2048);

    [Fact]
    public void Read_NoOptions_AnEmbeddedTheaterWithTheCommandsDefaults()
    {
        var (options, result) = Parse(TheaterOptions.EmbeddedOrCluster(Defaults, "model"));

        Assert.Equal(new TheaterSettings(null, 64, 2048, LogLevel.Warning, Attribution: true, Cluster: null), options.Read(result));
    }

    [Fact]
    public void Read_EmbeddedOptions_TakesEachValue()
    {
        var (options, result) = Parse(
            TheaterOptions.EmbeddedOrCluster(Defaults, "model"),
            "--model", "m.gguf", "--sequences", "8", "--context", "512", "--verbose", "--no-attribution");

        Assert.Equal(new TheaterSettings("m.gguf", 8, 512, LogLevel.Information, Attribution: false, Cluster: null), options.Read(result));
    }

    [Fact]
    public void Read_Cluster_TheClusterWithItsIds()
    {
        var (options, result) = Parse(
            TheaterOptions.EmbeddedOrCluster(Defaults, "model"),
            "--cluster", "redis://127.0.0.1:6379", "--cluster-id", "blue", "--service-id", "theater");

        Assert.Equal(new ClusterAddress("redis://127.0.0.1:6379", "blue", "theater"), options.Read(result).Cluster);
    }

    [Fact]
    public void Read_ClusterWithoutIds_TheDefaultIds()
    {
        var (options, result) = Parse(TheaterOptions.Cluster(), "--cluster", "127.0.0.1:30000");

        Assert.Equal(new ClusterAddress("127.0.0.1:30000", "agent-theater", "agent-theater"), options.Read(result).Cluster);
    }

    [Fact]
    public void Parse_EmbeddedOnly_RefusesCluster()
    {
        var (_, result) = Parse(TheaterOptions.Embedded(Defaults, "model"), "--cluster", "127.0.0.1:30000");

        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public void Parse_ClusterOnly_RequiresCluster()
    {
        var (_, result) = Parse(TheaterOptions.Cluster());

        Assert.Contains(result.Errors, e => e.Message.Contains("--cluster", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("run", 64, 2048, true)]
    [InlineData("fork", 64, 2048, true)]
    [InlineData("experiment twenty-questions", 128, 768, false)]
    [InlineData("takeovers evaluate", 128, 1024, false)]
    public void Commands_ThatOpenATheater_ShareTheOptionsWithTheirOwnPoolDefaults(string path, int sequences, int context, bool cluster)
    {
        var command = Find(AgentTheaterCommand.Create(), path);

        var names = command.Options.Select(o => o.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "--model", "--sequences", "--context", "--verbose" }, names);
        Assert.Equal(cluster, names.IsSupersetOf(["--cluster", "--cluster-id", "--service-id"]));
        var defaults = command.Parse([]);
        Assert.Equal((sequences, context), (defaults.GetValue<int>("--sequences"), defaults.GetValue<int>("--context")));
    }

    private static (TheaterOptions Options, ParseResult Result) Parse(TheaterOptions options, params string[] args)
    {
        var command = new RootCommand();
        options.AddTo(command);
        return (options, command.Parse(args));
    }

    private static Command Find(Command root, string path) =>
        path.Split(' ').Aggregate(root, (command, name) => command.Subcommands.Single(c => c.Name == name));
}
