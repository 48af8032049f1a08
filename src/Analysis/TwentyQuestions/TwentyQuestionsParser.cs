using System.Text.RegularExpressions;

namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>
/// Reads twenty-questions lines in the format the model was trained on (<c>tools/model/corpus.py</c>,
/// <c>twenty_scene</c>): <c>Hmm. Question 3: is it made of wood?</c>, <c>Question 7: is it an umbrella?</c>,
/// <c>No. Good thinking, though.</c>, <c>Yes! You got it! It was a spoon.</c>, <c>It was a teapot.</c>
/// Matching is case-insensitive and forgives extra spaces and a missing question mark.
/// </summary>
public sealed partial class TwentyQuestionsParser
{
    private readonly Dictionary<string, string> _attributeByPhrasing = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _objectByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Regex _canonicalReveal;
    private readonly Regex _namedObject;

    /// <summary>A parser for the questions, answers and reveals of games over <paramref name="catalogue"/>.</summary>
    public TwentyQuestionsParser(ObjectCatalogue catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        Catalogue = catalogue;
        foreach (var attribute in catalogue.Attributes)
        {
            foreach (var phrasing in attribute.Phrasings)
            {
                _attributeByPhrasing[Normalize(phrasing)] = attribute.Key;
            }
        }

        foreach (var obj in catalogue.Objects)
        {
            _objectByName[Normalize(obj)] = obj;
        }

        // Longest names first: at one position "frying pan" must win over a shorter name it contains.
        var names = string.Join('|', catalogue.Objects.OrderByDescending(o => o.Length).Select(NamePattern));
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
        _canonicalReveal = new Regex($@"^(?:yes[.!]*\s+you\s+got\s+it[.!]*\s+|out\s+of\s+questions[.!]*\s+)?it\s+was\s+an?\s+(?<object>{names})\b", options);
        _namedObject = new Regex($@"\b(?<object>{names})\b", options);
    }

    /// <summary>A parser over <see cref="ObjectCatalogue.Default"/>.</summary>
    public static TwentyQuestionsParser Default { get; } = new(ObjectCatalogue.Default);

    /// <summary>The catalogue questions and guesses are matched against.</summary>
    public ObjectCatalogue Catalogue { get; }

    /// <summary>
    /// The question a questioner's line asks, or null when it is neither a catalogue phrasing nor <c>is it a/an
    /// &lt;object&gt;?</c>. Anything before <c>Question N:</c> (a thinking prefix such as <c>Hmm.</c>) is ignored; without
    /// <c>Question N:</c> only the corpus's thinking prefixes are.
    /// </summary>
    public TwentyQuestionsQuestion? ParseQuestion(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var number = QuestionNumber().Match(line);
        var question = Normalize(number.Success ? line[(number.Index + number.Length)..] : ThinkingPrefix().Replace(line.TrimStart(), ""));
        if (_attributeByPhrasing.TryGetValue(question, out var key))
        {
            return TwentyQuestionsQuestion.About(key);
        }

        var guess = GuessQuestion().Match(question);
        return guess.Success && _objectByName.TryGetValue(guess.Groups["object"].Value, out var obj) ? TwentyQuestionsQuestion.Guess(obj) : null;
    }

    /// <summary>
    /// The answer an answerer's line gives: true when it starts with yes (<c>Yes.</c>, <c>Yes!</c>, <c>Yes. Well done.</c>),
    /// false when it starts with no, null otherwise.
    /// </summary>
    public static bool? ParseAnswer(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var answer = Answer().Match(line);
        return answer.Success ? answer.Groups["yes"].Success : null;
    }

    /// <summary>
    /// The object a reveal names. Canonical when the line starts <c>It was a/an &lt;object&gt;</c> (after an optional
    /// <c>Yes! You got it!</c> or <c>Out of questions!</c>); otherwise the first catalogue object named anywhere, as a
    /// whole word (the longest name where names overlap), or none.
    /// </summary>
    public RevealParse ParseReveal(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var canonical = _canonicalReveal.Match(line.Trim());
        if (canonical.Success)
        {
            return new RevealParse(ObjectNamed(canonical), Canonical: true);
        }

        var named = _namedObject.Match(line);
        return new RevealParse(named.Success ? ObjectNamed(named) : null, Canonical: false);
    }

    /// <summary>
    /// Pairs each parsed question of a game with the answer line that follows it. Lines that cannot be read are counted
    /// and skipped: an unparsed question's answer is skipped with it, and answerer lines with no question pending
    /// (remarks, reveals) are ignored.
    /// </summary>
    public TwentyQuestionsGame ReadGame(IEnumerable<TwentyQuestionsLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var answers = new List<AnsweredQuestion>();
        int unparsedQuestions = 0, unparsedAnswers = 0, unanswered = 0;
        TwentyQuestionsQuestion? pending = null;
        foreach (var line in lines)
        {
            if (line.ByQuestioner)
            {
                unanswered += pending is null ? 0 : 1;
                pending = ParseQuestion(line.Text);
                unparsedQuestions += pending is null ? 1 : 0;
            }
            else if (pending is not null)
            {
                if (ParseAnswer(line.Text) is { } answer)
                {
                    answers.Add(new AnsweredQuestion(pending, answer));
                }
                else
                {
                    unparsedAnswers++;
                }

                pending = null;
            }
        }

        return new TwentyQuestionsGame(answers, unparsedQuestions, unparsedAnswers, unanswered + (pending is null ? 0 : 1));
    }

    /// <summary>
    /// Pairs questions with answers given as (question, answer) text pairs; the same as <see cref="ReadGame(IEnumerable{TwentyQuestionsLine})"/>
    /// over the lines in turn.
    /// </summary>
    public TwentyQuestionsGame ReadGame(IEnumerable<(string Question, string Answer)> exchanges)
    {
        ArgumentNullException.ThrowIfNull(exchanges);
        return ReadGame(exchanges.SelectMany(e => new[] { new TwentyQuestionsLine(true, e.Question), new TwentyQuestionsLine(false, e.Answer) }));
    }

    private string ObjectNamed(Match match) => _objectByName[Normalize(match.Groups["object"].Value)];

    /// <summary>A question or name as looked up (case-insensitively): single spaces, no trailing punctuation.</summary>
    private static string Normalize(string text) => Whitespace().Replace(text, " ").Trim().TrimEnd('?', '.', '!', ' ');

    private static string NamePattern(string name) =>
        string.Join(@"\s+", name.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Regex.Escape));

    [GeneratedRegex(@"\bquestion\s+\d+\s*[:.]\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuestionNumber();

    // The corpus's thinking prefixes ("Hmm. ", "Right. ", "Let me think. ", "Interesting. ").
    [GeneratedRegex(@"^(?:(?:hmm+|right|let\s+me\s+think|interesting)[.,!]*\s+)+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ThinkingPrefix();

    [GeneratedRegex(@"^is\s+it\s+an?\s+(?<object>.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GuessQuestion();

    [GeneratedRegex(@"^\s*(?:(?<yes>yes)|no)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Answer();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
