namespace AgentTheater.Inference;

/// <summary>
/// SplitMix64's output function (Steele, Lea and Flood, 2014), the one mixer behind every seed the theater derives:
/// the synthetic model's tensors, a scene's line seeds and a fork's branch seeds. Each caller keeps its own way of
/// combining its inputs into one word; the mixer makes nearby words (turn 3 and turn 4) give unrelated seeds.
/// </summary>
public static class SeedMixer
{
    /// <summary>SplitMix64's increment, 2^64 divided by the golden ratio.</summary>
    public const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    /// <summary>Mixes the bits of <paramref name="x"/>: a bijection on 64-bit words.</summary>
    public static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>The value SplitMix64 draws from state <paramref name="state"/>: the state advanced by <see cref="GoldenGamma"/>, mixed.</summary>
    public static ulong SplitMix64(ulong state) => Mix(unchecked(state + GoldenGamma));
}
