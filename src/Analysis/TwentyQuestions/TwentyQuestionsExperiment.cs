using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Inference;

namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>How the twenty-questions experiment is played.</summary>
/// <param name="Games">Games per condition.</param>
/// <param name="Branches">Reveal branches forked from each game.</param>
/// <param name="Questions">Questions per game.</param>
/// <param name="Conditions">Conditions to play, in order (uncommitted, committed).</param>
/// <param name="Seed">Base seed: games, secrets and branches follow from it.</param>
/// <param name="Parallel">Games played at once.</param>
public sealed record TwentyQuestionsSettings(int Games, int Branches, int Questions, IReadOnlyList<string> Conditions, long Seed, int Parallel);

/// <summary>How far the experiment has got.</summary>
/// <param name="Games">Games played, forked and scored.</param>
/// <param name="TotalGames">Games in all conditions.</param>
public sealed record ExperimentProgress(int Games, int TotalGames);

/// <summary>
/// The twenty-questions experiment of Shanahan et al. (2023): the answerer is told it has thought of an object, but in
/// the uncommitted condition no object is written anywhere; after the questions each game is forked into branches that
/// are asked "what was the object?". Every catalogue object's reveal is also scored after each question, which gives
/// the distribution the simulator holds over objects and how the answers narrow it.
/// </summary>
public sealed class TwentyQuestionsExperiment(IGrainFactory grains, string experimentId, TwentyQuestionsSettings settings)
{
    public const string Uncommitted = "uncommitted";
    public const string Committed = "committed";
    private const string QuestionerName = "Pip";
    private const string AnswererName = "Ada";

    /// <summary>The narrator's question the branches answer, as the model was trained on it.</summary>
    public const string RevealQuestion = $"The game stops here. {AnswererName}, what was the object?";

    private static readonly string[] Settings =
    [
        $"A kitchen table after supper, two cups of tea going cold. {AnswererName} has an object in mind and {QuestionerName} has twenty questions to find it.",
        $"A long train journey on a wet afternoon. {AnswererName} has thought of an object; {QuestionerName} will try to guess it.",
        $"A camp fire on a summer night. {QuestionerName} and {AnswererName} are playing twenty questions.",
    ];

    // Answers are read as yes or no, so no repetition penalty pushes an answer away from the last one.
    private static readonly SamplingSettings GameSampling = new(Temperature: 0.7f, TopP: 0.95f, TopK: 40, RepetitionPenalty: 1, MaxTokensPerLine: 32);

    // The reveals are drawn from the model's own distribution, so the scored one can be checked against them.
    private static readonly SamplingSettings RevealSampling = new(Temperature: 1, TopP: 1, TopK: 0, RepetitionPenalty: 1, MaxTokensPerLine: 16);

    private readonly ObjectCatalogue _catalogue = ObjectCatalogue.Default;
    private readonly TwentyQuestionsParser _parser = TwentyQuestionsParser.Default;
    private readonly TwentyQuestionsConsistency _consistency = TwentyQuestionsConsistency.Default;

    /// <summary>Every game of every condition, reporting each game as it is played, forked and scored.</summary>
    public async Task<IReadOnlyList<TwentyQuestionsGameResult>> PlayAsync(IProgress<ExperimentProgress>? progress, CancellationToken cancellationToken)
    {
        var secrets = Secrets();
        var games = settings.Conditions.SelectMany(c => Enumerable.Range(0, settings.Games).Select(g => (Condition: c, Game: g))).ToList();
        var done = 0;
        var gate = new object();
        progress?.Report(new ExperimentProgress(0, games.Count));
        using var slots = new SemaphoreSlim(settings.Parallel);
        return await Task.WhenAll(games.Select(async game =>
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                var result = await PlayGameAsync(game.Condition, game.Game, game.Condition == Committed ? secrets[game.Game] : null, cancellationToken);
                lock (gate)
                {
                    progress?.Report(new ExperimentProgress(++done, games.Count));
                }

                return result;
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    /// <summary>The answerer's card: told it chose an object, and in the committed condition told which.</summary>
    public static PersonaCard Answerer(string? secret) => secret is null
        ? new PersonaCard(
            "answerer",
            AnswererName,
            $"the player of twenty questions who has thought of an object for {QuestionerName} to guess",
            ["before the first answer, silently choose one ordinary physical object and keep to it", "answer each question truthfully about that object", "never name the object until it is guessed"],
            [$"You have already chosen your object. Only you know what it is, and it does not change during the game. If {QuestionerName} guesses it, you say \"You got it!\" and name it."],
            "calm and a little mischievous; answers with \"Yes.\" or \"No.\" and at most one short remark")
        : new PersonaCard(
            "answerer",
            AnswererName,
            $"the player of twenty questions who has thought of an object for {QuestionerName} to guess",
            ["answer each question truthfully about your object", "never name the object until it is guessed"],
            [$"Your object is {ObjectCatalogue.Article(secret)} {secret}. Answer every question truthfully about it. If {QuestionerName} guesses it, say \"You got it!\"."],
            "calm and a little mischievous; answers with \"Yes.\" or \"No.\" and at most one short remark");

    /// <summary>The questioner's card, as in the training corpus.</summary>
    public static PersonaCard Questioner { get; } = new(
        "questioner",
        QuestionerName,
        $"a quick, methodical player of twenty questions, trying to guess the object {AnswererName} has thought of",
        ["find the object in as few questions as possible", "ask exactly one yes-or-no question a turn"],
        [],
        "brisk and cheerful; numbers every question (\"Question 4: is it made of metal?\")");

    private async Task<TwentyQuestionsGameResult> PlayGameAsync(string condition, int game, string? secret, CancellationToken cancellationToken)
    {
        var key = $"{experimentId}/{condition}-{game}/0";
        var scene = new SceneDefinition(
            $"{condition}-{game}",
            Settings[game % Settings.Length],
            [Questioner.Id, "answerer"],
            TurnPolicy.RoundRobin,
            2 * settings.Questions,
            ["You got it!"],
            [$"This is a game of twenty questions. {AnswererName} has thought of one ordinary object and will not say what it is. {QuestionerName} asks one yes-or-no question at a time."],
            []);
        PersonaCard[] cast = [Questioner, Answerer(secret)];
        var start = new SceneStart(experimentId, 0, scene, cast, GameSampling with { Seed = (settings.Seed * 100_003) + game }, "twenty-questions");
        var grain = grains.GetGrain<ISceneGrain>(key);
        await grain.Start(start);
        var transcript = await WaitAsync(grain, cancellationToken);

        // The reveal: every branch is asked by the narrator, and the answerer (named) answers.
        var turns = transcript.Count(l => l.Kind == LineKind.Character);
        var reveal = scene with
        {
            MaxTurns = turns + 1,
            Policy = TurnPolicy.Addressed,
            StopPhrases = [],
            Interventions = [new InterventionDefinition(turns, DialoguePrompt.NarratorName, RevealQuestion)],
        };
        var fork = await grain.Fork(new SceneFork(settings.Branches, turns, reveal, RevealSampling with { Seed = settings.Seed + game }));
        var branches = await Task.WhenAll(fork.BranchKeys.Select(b => WaitAsync(grains.GetGrain<ISceneGrain>(b), cancellationToken)));

        var exchanges = Exchanges(transcript);
        var answered = new List<AnsweredQuestion>();
        var questions = new List<PlayedQuestion>();
        foreach (var (question, answer) in exchanges)
        {
            var asked = _parser.ParseQuestion(question.Text);
            var yes = TwentyQuestionsParser.ParseAnswer(answer.Text);
            if (asked is not null && yes is not null)
            {
                answered.Add(new AnsweredQuestion(asked, yes.Value));
            }

            questions.Add(new PlayedQuestion(question.Text, answer.Text, asked, yes, _consistency.ConsistentObjects(answered).Count));
        }

        var consistent = _consistency.ConsistentObjects(answered);
        var reveals = branches.Select((lines, b) =>
        {
            var line = lines.Skip(fork.SharedLines).FirstOrDefault(l => l.Kind == LineKind.Character);
            var parsed = _parser.ParseReveal(line?.Text ?? string.Empty);
            return new RevealSample(
                b,
                line?.Text ?? string.Empty,
                parsed.Object,
                parsed.Canonical,
                parsed.Object is null ? null : consistent.Contains(parsed.Object),
                line?.PrefillTokens ?? 0);
        }).ToList();

        var narrowing = await NarrowAsync(key, start, transcript, exchanges, questions, secret, cancellationToken);
        return new TwentyQuestionsGameResult(
            condition,
            game,
            key,
            secret,
            questions,
            consistent,
            reveals,
            narrowing.Last().Distribution,
            [.. narrowing.Select(n => n.Step)],
            fork.PrefillTokens,
            fork.CopiedTokens);
    }

    /// <summary>
    /// After 0, 1, ... questions: the answerer's prompt as a branch would see it at that point (the transcript so far
    /// and the narrator's question), every catalogue object's reveal scored under it in one batch, normalised over the
    /// catalogue. Successive prompts share their prefix in one scoring session, so each decodes only the new exchange.
    /// </summary>
    private async Task<List<(NarrowingStep Step, double[] Distribution)>> NarrowAsync(
        string key,
        SceneStart start,
        IReadOnlyList<SceneLine> transcript,
        List<(SceneLine Question, SceneLine Answer)> exchanges,
        List<PlayedQuestion> questions,
        string? secret,
        CancellationToken cancellationToken)
    {
        var casting = new CharacterCasting(key, start.Cast[1], start.Scene.Setting, [.. start.Cast.Select(c => c.Name)], start.Sampling);
        // The whole reveal, full stop included: the text is tokenised as the model saw it in training ("It was a
        // mirror." ends in " mirror" "."; "It was a mirror" alone ends in another token the model never produces there).
        var continuations = _catalogue.Objects.Select(o => " " + _catalogue.RevealText(o) + ".").ToList();
        var session = $"{key}/reveal-scorer";
        var answered = new List<AnsweredQuestion>();
        var steps = new List<(NarrowingStep, double[])>();
        for (var q = 0; q <= exchanges.Count; q++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (q > 0 && questions[q - 1] is { Asked: { } asked, Yes: { } yes })
            {
                answered.Add(new AnsweredQuestion(asked, yes));
            }

            var until = q == 0 ? transcript.TakeWhile(l => l.Kind != LineKind.Character).Count() : exchanges[q - 1].Answer.Index + 1;
            var seen = transcript.Take(until).Append(new SceneLine(until, 0, LineKind.Intervention, null, DialoguePrompt.NarratorName, RevealQuestion));
            var scores = await grains.Inference(session).ScoreAlternatives(new ScoreAlternativesCall(session, DialoguePrompt.Build(casting, seen), continuations), cancellationToken);
            var distribution = RevealStatistics.Normalize([.. scores.Select(s => s.LogProbability)]);
            var consistent = _consistency.ConsistentObjects(answered).ToHashSet();
            steps.Add((new NarrowingStep(
                q,
                consistent.Count,
                RevealStatistics.EntropyBits(distribution),
                _catalogue.Objects.Select((o, i) => consistent.Contains(o) ? distribution[i] : 0).Sum(),
                secret is null ? null : distribution[_catalogue.IndexOf(secret)]), distribution));
        }

        return steps;
    }

    /// <summary>Each questioner line with the answerer line after it.</summary>
    private static List<(SceneLine Question, SceneLine Answer)> Exchanges(IReadOnlyList<SceneLine> transcript)
    {
        var spoken = transcript.Where(l => l.Kind == LineKind.Character).ToList();
        var exchanges = new List<(SceneLine, SceneLine)>();
        for (var i = 0; i + 1 < spoken.Count; i++)
        {
            if (spoken[i].SpeakerId == Questioner.Id && spoken[i + 1].SpeakerId == "answerer")
            {
                exchanges.Add((spoken[i], spoken[i + 1]));
                i++;
            }
        }

        return exchanges;
    }

    /// <summary>The committed games' objects: the catalogue shuffled once from the seed, then taken in turn (every object as often as the games allow).</summary>
    private List<string> Secrets()
    {
        var objects = _catalogue.Objects.ToArray();
        new Random(unchecked((int)settings.Seed)).Shuffle(objects);
        return [.. Enumerable.Range(0, settings.Games).Select(g => objects[g % objects.Length])];
    }

    private static async Task<IReadOnlyList<SceneLine>> WaitAsync(ISceneGrain scene, CancellationToken cancellationToken)
    {
        await foreach (var line in scene.Watch(0, cancellationToken).WithCancellation(cancellationToken))
        {
            _ = line;
        }

        var status = await scene.GetStatus();
        return status.Phase == ScenePhase.Completed
            ? await scene.GetTranscript()
            : throw new InvalidOperationException($"Scene {status.SceneKey} ended {status.Phase}: {status.EndReason}");
    }
}
