using System.Text;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;

namespace AgentTheater.Grains.Scenes.TurnPolicies;

/// <summary>
/// <see cref="TurnPolicy.Director"/>: the simulator chooses, weighed by turn-taking. A character about to be silent past
/// the scene's max silence speaks without scoring. Otherwise each candidate's name cue is scored after the setting and
/// the most recent public lines (whispers left out) in the pool session <c>{scene}/director</c>; to its log-likelihood per
/// token the <see cref="TurnTaking.Prior"/> is added (recent speakers penalised, the addressed boosted) and the highest speaks.
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

        var candidates = Candidates(context);
        var prompt = Prompt(context);
        var session = $"{context.SceneKey}/director";
        var scores = await context.Score(session, [.. candidates.Select(i => new ScoreCall(session, prompt, cast[i].Name + ":"))]);
        return cast[Choose(context, candidates, scores)];
    }

    /// <summary>Cast indexes the director scores: everyone but the last speaker, unless a narrator or user line just named it.</summary>
    internal static IReadOnlyList<int> Candidates(TurnContext context)
    {
        var last = context.LastSpeaker;
        return [.. Enumerable.Range(0, context.Cast.Count).Where(i => i != last || (context.Lines[^1].Kind != LineKind.Character && context.IsAddressed(i)))];
    }

    /// <summary>
    /// The candidate who speaks: the highest name-cue log-likelihood per token (a long name's cue is not penalised for
    /// its length), scaled to <see cref="TurnTaking.ModelWeight"/>, plus the <see cref="TurnTaking.Prior"/>. Returns a
    /// cast index.
    /// </summary>
    internal static int Choose(TurnContext context, IReadOnlyList<int> candidates, IReadOnlyList<ScoreReply> scores)
    {
        var cast = context.Cast;
        var floor = context.Floor;
        var lastTurns = TurnTaking.LastTurns(cast, context.Lines);
        var priors = candidates.Select(i => floor.Prior(lastTurns[i], context.Turn, cast.Count, context.IsAddressed(i))).ToList();
        var perToken = scores.Select(s => s.Tokens > 0 ? s.LogProbability / s.Tokens : s.LogProbability).ToList();
        return candidates[TurnTaking.Likeliest(TurnTaking.ScaleToModelWeight(perToken), priors)];
    }

    /// <summary>
    /// The setting and the most recent public lines (<see cref="ChunkedWindow"/>: at most <see cref="WindowLines"/>, the
    /// oldest <see cref="WindowStep"/> dropped at once), in the dialogue format the model was trained on. Bounded, so a
    /// long scene never outgrows the context, and its prefix stays put between drops, so the pool's cache serves it.
    /// </summary>
    internal static string Prompt(TurnContext context)
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
