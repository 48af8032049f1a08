using System.Text.Json;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Tests;

/// <summary>
/// The project's model was trained on documents written by tools/model/corpus.py. They must be exactly what the
/// character grains write (DialoguePrompt), or the model sees a different format in the theater than in training.
/// </summary>
public sealed class TrainingFormatTests
{
    private static readonly string CheckPath = RepositoryFiles.Path("models", "agent-theater-small.check.jsonl");

    [Fact]
    public void CorpusDocuments_AreExactlyWhatDialoguePromptBuilds()
    {
        var documents = File.ReadLines(CheckPath)
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!)
            .ToList();
        Assert.NotEmpty(documents);

        foreach (var document in documents)
        {
            var (casting, lines) = Parse(document);
            Assert.Equal(document + casting.Persona.Name + ":", DialoguePrompt.Build(casting, lines));
        }
    }

    [Fact]
    public void CorpusDocuments_CoverWhispersSecretsAndEveryHeader()
    {
        var text = string.Join("\n", File.ReadLines(CheckPath));
        foreach (var marker in new[] { "[Goals] ", "[Secret] ", "[Style] ", "[Present] ", "[Scene] ", "(whispering to you): ", "Narrator: " })
        {
            Assert.Contains(marker, text, StringComparison.Ordinal);
        }
    }

    /// <summary>Reads a document back into a persona card and the lines its character witnessed.</summary>
    private static (CharacterCasting Casting, List<SceneLine> Lines) Parse(string document)
    {
        var split = document.IndexOf("\n\n", StringComparison.Ordinal);
        var header = document[..split].Split('\n');
        string Field(string name) => header.FirstOrDefault(h => h.StartsWith(name, StringComparison.Ordinal))?[name.Length..] ?? string.Empty;
        var character = Field("[Character] ");
        var comma = character.IndexOf(", ", StringComparison.Ordinal);
        var name = character[..comma];
        var goals = Field("[Goals] ");
        var secret = Field("[Secret] ");
        var present = Field("[Present] ");
        var persona = new PersonaCard(
            name.ToLowerInvariant(),
            name,
            character[(comma + 2)..],
            goals.Length > 0 ? goals.Split("; ") : [],
            secret.Length > 0 ? [secret] : [],
            Field("[Style] "));
        var cast = new List<string> { name };
        cast.AddRange(present.Length > 0 ? present.Split(", ") : []);
        var casting = new CharacterCasting("scene", persona, Field("[Scene] "), cast, new SamplingSettings());

        var lines = new List<SceneLine>();
        foreach (var line in document[(split + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            var speaker = line[..colon];
            var whisper = speaker.EndsWith(" (whispering to you)", StringComparison.Ordinal);
            speaker = whisper ? speaker[..^" (whispering to you)".Length] : speaker;
            var kind = speaker == DialoguePrompt.NarratorName ? LineKind.Narrator : cast.Contains(speaker) ? LineKind.Character : LineKind.Intervention;
            lines.Add(new SceneLine(lines.Count, lines.Count, kind, null, speaker, line[(colon + 2)..], whisper ? name : null));
        }

        return (casting, lines);
    }
}
