using System.CommandLine;

namespace AgentTheater.Client.Commands;

/// <summary>The <c>agent-theater</c> command tree.</summary>
internal static class AgentTheaterCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("AgentTheater: many LLM characters improvising together on Orleans, one pooled llama.cpp engine.");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(CardsCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ForkCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(TakeoversCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(NativeCommand.Create());
        return root;
    }
}
