using AgentTheater.Inference;

namespace AgentTheater.Grains.Scenes;

/// <summary>The seeds a scene derives from its sampling seed, each through <see cref="SeedMixer"/>.</summary>
internal static class SceneSeeds
{
    /// <summary>A seed per line from the scenario seed, the replica and the turn: replicas differ, reruns repeat.</summary>
    public static uint Line(long seed, int replica, int turn) =>
        (uint)SeedMixer.Mix(unchecked((ulong)seed * SeedMixer.GoldenGamma + ((ulong)replica << 20) + (ulong)turn));

    /// <summary>A seed per branch from the fork's seed: branches differ, the same fork made again repeats.</summary>
    public static long Branch(long seed, int fork, int branch) =>
        (long)(SeedMixer.Mix(unchecked((ulong)seed * 0xD1B54A32D192ED03UL + ((ulong)fork << 32) + (ulong)branch + 1)) & 0x7FFF_FFFF_FFFF_FFFFUL);
}
