using System.Text;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// <see cref="TurnPolicy.Director"/>: the simulator chooses. Every character but the last speaker has its name cue
/// scored after the public transcript (whispers left out) in the pool session <c>{scene}/director</c>; the likeliest
/// speaks. A cast of one speaks in turn.
/// </summary>
internal sealed class DirectorTurnPolicy : ITurnPolicy
{
    public TurnPolicy Policy => TurnPolicy.Director;

    public async Task<PersonaCard> ChooseSpeakerAsync(TurnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Cast.Count <= 1)
        {
            return context.InCastOrder;
        }

        var last = context.LastSpeaker;
        var candidates = context.Cast.Where((_, i) => i != last).ToList();
        var prompt = Prompt(context);
        var session = $"{context.SceneKey}/director";
        var scores = await context.Score(session, [.. candidates.Select(c => new ScoreCall(session, prompt, c.Name + ":"))]);
        var best = 0;
        for (var i = 1; i < candidates.Count; i++)
        {
            if (scores[i].LogProbability > scores[best].LogProbability)
            {
                best = i;
            }
        }

        return candidates[best];
    }

    /// <summary>The setting and every public line, in the dialogue format the model was trained on.</summary>
    private static string Prompt(TurnContext context)
    {
        var prompt = new StringBuilder("[Scene] ").Append(context.Start.Scene.Setting).Append("\n\n");
        foreach (var line in context.Lines.Where(l => l.To is null))
        {
            DialoguePrompt.AppendLine(prompt, line);
        }

        return prompt.ToString();
    }
}
