namespace AgentTheater.Analysis.TwentyQuestions;

/// <summary>One object's share of the reveals of a condition.</summary>
/// <param name="Object">The catalogue object (or a label such as "rest" for several).</param>
/// <param name="Sampled">Share of the sampled reveals that named it (0 to 1).</param>
/// <param name="Scored">Mean probability the model gives it when every object's reveal is scored (0 to 1).</param>
public sealed record ObjectShare(string Object, double Sampled, double Scored);

/// <summary>What the answerer revealed in one condition of the experiment, per object.</summary>
/// <param name="Condition">The condition's name (committed, uncommitted, ...).</param>
/// <param name="Objects">Every object's sampled share and scored probability.</param>
public sealed record RevealDistribution(string Condition, IReadOnlyList<ObjectShare> Objects);

/// <summary>How far the answers have narrowed the object after some questions, averaged over a condition's games.</summary>
/// <param name="Questions">Questions answered.</param>
/// <param name="MeanEntropyBits">Mean entropy, in bits, of the scored reveal distribution.</param>
/// <param name="MeanLog2Consistent">Mean log2 of the number of catalogue objects consistent with the answers so far.</param>
/// <param name="MeanConsistentMass">Mean scored probability on the objects consistent with the answers so far.</param>
public sealed record NarrowingPoint(int Questions, double MeanEntropyBits, double MeanLog2Consistent, double MeanConsistentMass);

/// <summary>The narrowing of one condition, question by question.</summary>
/// <param name="Condition">The condition's name.</param>
/// <param name="Points">One point per number of questions answered, ascending.</param>
public sealed record NarrowingCurve(string Condition, IReadOnlyList<NarrowingPoint> Points);
