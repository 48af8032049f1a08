namespace AgentTheater.Grains.Scenarios;

/// <summary>One problem in a scenario file, where it is and which field it concerns.</summary>
/// <param name="File">The file, as it was named to the loader.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Field">Path of the field (e.g. <c>scenes[0].present[2]</c>), or empty for the file as a whole.</param>
/// <param name="Message">What is wrong, in words.</param>
public sealed record ScenarioError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary>The error as compilers write them: <c>file:line:column: field: message</c>.</summary>
    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Field}: {Message}";
}
