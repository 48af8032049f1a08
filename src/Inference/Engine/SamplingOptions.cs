namespace AgentTheater.Inference.Engine;

/// <summary>
/// How the next token is chosen. Temperature 0 is greedy (argmax). The chain applied is llama.cpp's:
/// penalties (repetition, frequency, presence), top-k, top-p, min-p, temperature, then a seeded draw.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding: always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Softmax temperature; 0 for greedy.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus sampling mass; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens below this fraction of the most likely token's probability; 0 keeps all.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divides the logits of recently seen tokens; 1 disables.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>
    /// Subtracted from a token's logit once per occurrence in the last <see cref="RepetitionLastN"/> tokens
    /// (OpenAI's frequency penalty, over llama.cpp's window); 0 disables.
    /// </summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>
    /// Subtracted from the logit of every token that occurs in the last <see cref="RepetitionLastN"/> tokens
    /// (OpenAI's presence penalty, over llama.cpp's window); 0 disables.
    /// </summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many recent tokens (prompt included) the penalties look at.</summary>
    public int RepetitionLastN { get; init; } = 64;

    /// <summary>Seed of the draw; null picks one at random.</summary>
    public uint? Seed { get; init; }

    /// <summary>True when this is plain argmax.</summary>
    public bool IsGreedy => Temperature == 0 && !HasPenalties;

    /// <summary>True when any of the penalties is on.</summary>
    public bool HasPenalties => RepetitionPenalty != 1.0f || FrequencyPenalty != 0 || PresencePenalty != 0;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        Check(float.IsFinite(Temperature) && Temperature >= 0 && Temperature <= 100, nameof(Temperature), Temperature, "a number from 0 (greedy) to 100");
        Check(TopK >= 0, nameof(TopK), TopK, "0 (off) or more");
        Check(float.IsFinite(TopP) && TopP > 0 && TopP <= 1, nameof(TopP), TopP, "in (0, 1]");
        Check(float.IsFinite(MinP) && MinP >= 0 && MinP < 1, nameof(MinP), MinP, "in [0, 1)");
        Check(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0 && RepetitionPenalty <= 10, nameof(RepetitionPenalty), RepetitionPenalty, "in (0, 10], 1 = off");
        Check(float.IsFinite(FrequencyPenalty) && FrequencyPenalty >= -2 && FrequencyPenalty <= 2, nameof(FrequencyPenalty), FrequencyPenalty, "in [-2, 2], 0 = off");
        Check(float.IsFinite(PresencePenalty) && PresencePenalty >= -2 && PresencePenalty <= 2, nameof(PresencePenalty), PresencePenalty, "in [-2, 2], 0 = off");
        Check(RepetitionLastN >= 0, nameof(RepetitionLastN), RepetitionLastN, "0 or more");
    }

    private static void Check(bool valid, string name, object value, string expected)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException($"Sampling.{name}", value, $"Sampling value {name} = {value} is invalid: expected {expected}.");
        }
    }
}
