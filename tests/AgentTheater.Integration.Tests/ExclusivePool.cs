namespace AgentTheater.Integration.Tests;

/// <summary>
/// Tests that need the cluster's pool to themselves: their collection runs after the others, with nothing in parallel.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class ExclusivePool;
