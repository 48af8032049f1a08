namespace AgentTheater.Grains.Scenarios;

/// <summary>A scenario file that cannot be played; carries every problem found, not just the first.</summary>
public sealed class ScenarioValidationException : Exception
{
    /// <summary>Creates the exception for <paramref name="errors"/> (at least one).</summary>
    public ScenarioValidationException(IReadOnlyList<ScenarioError> errors)
        : base(Describe(errors)) => Errors = errors;

    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<ScenarioError> Errors { get; }

    /// <summary>A heading with the count, then one <c>file:line:column: field: message</c> line per error.</summary>
    private static string Describe(IReadOnlyList<ScenarioError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentOutOfRangeException.ThrowIfZero(errors.Count);
        var heading = errors.Count == 1 ? $"{errors[0].File}: 1 error:" : $"{errors[0].File}: {errors.Count} errors:";
        return string.Join(Environment.NewLine, errors.Select(e => e.ToString()).Prepend(heading));
    }
}
