using System.ComponentModel.DataAnnotations;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Chat;

/// <summary>Configuration of a <see cref="PooledChatClient"/> (section <c>Inference:Chat</c>).</summary>
public sealed class PooledChatClientOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Inference:Chat";

    /// <summary>The model id reported in responses and metadata; empty for the model's file name.</summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// A chat template to use instead of the one in the model file: a llama.cpp built-in name ("chatml", "llama3",
    /// "mistral-v7", "gemma", ...) or template text llama.cpp recognises. Empty for the model's own.
    /// </summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Most tokens to generate when <c>ChatOptions.MaxOutputTokens</c> is not set.</summary>
    [Range(1, 1 << 20)]
    public int MaxOutputTokens { get; set; } = 512;

    /// <summary>Sampling used for whatever <c>ChatOptions</c> leaves unset (min-p and repetition settings always come from here).</summary>
    [Required]
    public SamplingOptions Sampling { get; set; } = new();

    /// <summary>Throws <see cref="ValidationException"/> or <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        Sampling.Validate();
    }
}
