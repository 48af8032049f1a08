namespace AgentTheater.Grains;

/// <summary>The grain storage provider the theater's grains persist to.</summary>
public static class TheaterStorage
{
    /// <summary>Provider name.</summary>
    public const string Name = "theater";
}
