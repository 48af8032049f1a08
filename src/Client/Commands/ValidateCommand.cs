using System.CommandLine;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater validate FILE</c>: checks a scenario without playing it.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var command = new Command("validate", "Check a scenario file and report every error with its file, line and field.") { file };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var scenario = ScenarioFile.Load(result.GetValue(file)!);
            Console.WriteLine($"{result.GetValue(file)}: valid. {ScenarioFile.Describe(scenario)}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
