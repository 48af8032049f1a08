namespace AgentTheater.Grains.Scenarios;

/// <summary>One problem in a scenario file.</summary>
/// <param name="File">The file.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Field">Path of the field, e.g. <c>scenes[0].present[2]</c>.</param>
/// <param name="Message">What is wrong.</param>
public sealed record ScenarioError(string File, long Line, long Column, string Field, string Message)
{
    /// <summary><c>file:line:column: field: message</c>.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Field}: {Message}";
}

/// <summary>A scenario file is invalid; <see cref="Errors"/> lists every problem found, not just the first.</summary>
public sealed class ScenarioValidationException(IReadOnlyList<ScenarioError> errors)
    : Exception($"{errors.Count} error(s) in scenario:\n" + string.Join('\n', errors))
{
    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<ScenarioError> Errors { get; } = errors;
}
