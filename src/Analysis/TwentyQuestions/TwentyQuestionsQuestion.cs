namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>A twenty-questions question: either about a catalogue attribute or a guess of one object, never both.</summary>
public sealed record TwentyQuestionsQuestion
{
    private TwentyQuestionsQuestion(string? attribute, string? guessedObject)
    {
        Attribute = attribute;
        GuessedObject = guessedObject;
    }

    /// <summary>The attribute key asked about (<c>metal</c>); null for a guess.</summary>
    public string? Attribute { get; }

    /// <summary>The object guessed (<c>teapot</c>); null for an attribute question.</summary>
    public string? GuessedObject { get; }

    /// <summary>Whether this is a guess of an object.</summary>
    public bool IsGuess => GuessedObject is not null;

    /// <summary>A question about the attribute <paramref name="key"/> ("is it made of metal?").</summary>
    public static TwentyQuestionsQuestion About(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return new(key, null);
    }

    /// <summary>A guess of <paramref name="obj"/> ("is it a teapot?").</summary>
    public static TwentyQuestionsQuestion Guess(string obj)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(obj);
        return new(null, obj);
    }

    /// <inheritdoc/>
    public override string ToString() => IsGuess ? $"guess {GuessedObject}" : $"attribute {Attribute}";
}

/// <summary>A question and the answerer's yes (true) or no (false).</summary>
public sealed record AnsweredQuestion(TwentyQuestionsQuestion Question, bool Answer);

/// <summary>A line of a twenty-questions game, in order.</summary>
/// <param name="ByQuestioner">True for the questioner's line, false for the answerer's.</param>
/// <param name="Text">What was said.</param>
public sealed record TwentyQuestionsLine(bool ByQuestioner, string Text);

/// <summary>What a game's transcript says was asked and answered.</summary>
/// <param name="Answers">Each parsed question with the answer that followed it, in order.</param>
/// <param name="UnparsedQuestions">Questioner lines that are not a catalogue question or guess (their answers are skipped).</param>
/// <param name="UnparsedAnswers">Answers to a parsed question that are neither yes nor no (the question is skipped).</param>
/// <param name="UnansweredQuestions">Parsed questions followed by another questioner line or the end, not an answer.</param>
public sealed record TwentyQuestionsGame(IReadOnlyList<AnsweredQuestion> Answers, int UnparsedQuestions, int UnparsedAnswers, int UnansweredQuestions)
{
    /// <summary>Questions and answers skipped because they could not be read.</summary>
    public int Unparsed => UnparsedQuestions + UnparsedAnswers;
}

/// <summary>What a reveal line names.</summary>
/// <param name="Object">The catalogue object named; null when none is.</param>
/// <param name="Canonical">The line has the trained form: it starts <c>It was a/an &lt;object&gt;</c>.</param>
public sealed record RevealParse(string? Object, bool Canonical);
