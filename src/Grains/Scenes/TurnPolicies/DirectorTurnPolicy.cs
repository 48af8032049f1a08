using System.Text;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// <see cref="TurnPolicy.Director"/>: the simulator chooses, weighed by turn-taking. A character about to be silent past
/// the scene's max silence speaks without scoring. Otherwise each candidate's name cue is scored after the setting and
/// the most recent public lines (whispers left out) in the pool session <c>{scene}/director</c>, the
/// <see cref="TurnTaking.Prior"/> is added (recent speakers penalised, the addressed boosted) and the highest speaks.
/// The last speaker is no candidate, unless the last line is a narrator or user line naming it. A cast of one speaks in turn.
/// </summary>
internal sealed class DirectorTurnPolicy : ITurnPolicy
{
    /// <summary>The most public lines the director's prompt holds.</summary>
    public const int WindowLines = 16;

    /// <summary>Public lines the director's window drops at once when it is full, so its prompt prefix holds for that many turns.</summary>
    public const int WindowStep = 8;

    public TurnPolicy Policy => TurnPolicy.Director;

    public async Task<PersonaCard> ChooseSpeakerAsync(TurnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cast = context.Cast;
        if (cast.Count <= 1)
        {
            return context.InCastOrder;
        }

        if (context.Overdue is { } overdue)
        {
            return cast[overdue];
        }

        var last = context.LastSpeaker;
        var candidates = Enumerable.Range(0, cast.Count).Where(i => i != last || (context.Lines[^1].Kind != LineKind.Character && context.IsAddressed(i))).ToList();
        var floor = context.Floor;
        var lastTurns = TurnTaking.LastTurns(cast, context.Lines);
        var priors = candidates.Select(i => floor.Prior(lastTurns[i], context.Turn, cast.Count, context.IsAddressed(i))).ToList();

        var prompt = Prompt(context);
        var session = $"{context.SceneKey}/director";
        var scores = await context.Score(session, [.. candidates.Select(i => new ScoreCall(session, prompt, cast[i].Name + ":"))]);
        return cast[candidates[TurnTaking.Likeliest([.. scores.Select(s => s.LogProbability)], priors)]];
    }

    /// <summary>
    /// The setting and the most recent public lines (<see cref="ChunkedWindow"/>: at most <see cref="WindowLines"/>, the
    /// oldest <see cref="WindowStep"/> dropped at once), in the dialogue format the model was trained on. Bounded, so a
    /// long scene never outgrows the context, and its prefix stays put between drops, so the pool's cache serves it.
    /// </summary>
    private static string Prompt(TurnContext context)
    {
        var lines = context.Lines.Where(l => l.To is null).ToList();
        var prompt = new StringBuilder("[Scene] ").Append(context.Start.Scene.Setting).Append("\n\n");
        foreach (var line in lines.Skip(ChunkedWindow.Start(lines.Count, WindowLines, WindowStep)))
        {
            DialoguePrompt.AppendLine(prompt, line);
        }

        return prompt.ToString();
    }
}
