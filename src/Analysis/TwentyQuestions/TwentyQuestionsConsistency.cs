namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>Which catalogue objects a game's answers allow: the answers an honest answerer could have given.</summary>
public sealed class TwentyQuestionsConsistency(ObjectCatalogue catalogue)
{
    /// <summary>Consistency over <see cref="ObjectCatalogue.Default"/>.</summary>
    public static TwentyQuestionsConsistency Default { get; } = new(ObjectCatalogue.Default);

    /// <summary>
    /// Whether every answer is true of <paramref name="obj"/>: an attribute's answer is what the catalogue says of it; a
    /// guess answered yes names <paramref name="obj"/>, and one answered no names another object.
    /// </summary>
    public bool IsConsistent(string obj, IEnumerable<AnsweredQuestion> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        return catalogue.Contains(obj)
            ? answers.All(a => Allows(obj, a))
            : throw new ArgumentException($"'{obj}' is not a catalogue object.", nameof(obj));
    }

    /// <summary>The catalogue objects consistent with every answer, in the catalogue's order (empty for a contradictory game).</summary>
    public IReadOnlyList<string> ConsistentObjects(IEnumerable<AnsweredQuestion> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var given = answers.ToList();
        return [.. catalogue.Objects.Where(o => given.All(a => Allows(o, a)))];
    }

    private bool Allows(string obj, AnsweredQuestion answered) => answered.Question.GuessedObject is { } guessed
        ? string.Equals(guessed, obj, StringComparison.Ordinal) == answered.Answer
        : catalogue.IsTrue(obj, answered.Question.Attribute!) == answered.Answer;
}
