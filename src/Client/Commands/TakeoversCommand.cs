using System.CommandLine;
using AgentTheater.Analysis.Takeovers;
using AgentTheater.Web.Runs;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater takeovers RUN_FOLDER [--transcript]</c>, and <c>takeovers evaluate</c> (<see cref="TakeoversEvaluateCommand"/>).</summary>
internal static class TakeoversCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("run") { Description = "A run folder written by 'run' (runs/<run id>)" };
        var transcript = new Option<bool>("--transcript") { Description = "Also print every transcript with takeover, trigger and recovery markers" };
        var command = new Command("takeovers", "Print a run's role takeovers: scene, character, turn, from -> to, posterior, trigger line.")
        {
            folder, transcript,
        };
        command.Subcommands.Add(TakeoversEvaluateCommand.Create());
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var run = RunFolder.Open(result.GetValue(folder)!);
            if (!File.Exists(run.TakeoversPath))
            {
                throw new FileNotFoundException($"'{run.TakeoversPath}' does not exist: the run was played without role attribution, or did not finish.", run.TakeoversPath);
            }

            var takeovers = run.ReadTakeovers();
            var lines = run.ReadAttribution();
            if (result.GetValue(transcript))
            {
                Console.Write(TakeoverReport.Transcripts(run.ReadScenes(), takeovers, lines));
            }

            Console.Write(TakeoverReport.Table(takeovers, lines));
            return Task.FromResult(0);
        }));
        return command;
    }
}
