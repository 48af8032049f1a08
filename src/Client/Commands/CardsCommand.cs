using System.CommandLine;
using AgentTheater.Grains.Scenarios;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater cards export SCENARIO [--out DIR]</c>: a scenario's characters as Character Card V2 files.</summary>
internal static class CardsCommand
{
    public static Command Create()
    {
        var command = new Command("cards", "Export scenario characters as Character Card V2 files (a scenario imports them with 'card:').");
        command.Subcommands.Add(CreateExport());
        return command;
    }

    private static Command CreateExport()
    {
        var file = new Argument<string>("scenario") { Description = "Scenario YAML file" };
        var output = new Option<string>("--out") { Description = "Folder to write the cards to", DefaultValueFactory = _ => "." };
        var command = new Command("export", "Write each character of a scenario as <id>.json, a V2 card that imports back to the same character.") { file, output };
        command.SetAction((result, _) => CommandErrors.Run(() =>
        {
            var scenario = ScenarioFile.Load(result.GetValue(file)!);
            var folder = result.GetValue(output)!;
            Directory.CreateDirectory(folder);
            foreach (var character in scenario.Characters)
            {
                var path = Path.Combine(folder, $"{character.Id}.json");
                File.WriteAllText(path, CharacterCard.ToV2Json(character));
                var dropped = character.PlayAs is null ? "" : " (its play_as is a stage direction, not part of the card)";
                Console.WriteLine($"{path}: {character.Name}{dropped}");
            }

            return Task.FromResult(0);
        }));
        return command;
    }
}
