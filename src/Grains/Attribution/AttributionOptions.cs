using System.ComponentModel.DataAnnotations;

namespace AgentTheater.Grains.Attribution;

/// <summary>Role attribution and takeover detection (section <c>Attribution</c>).</summary>
public sealed class AttributionOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Attribution";

    /// <summary>Score every character line against competing roles (costs scoring passes through the pool).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A line is taken over when the assigned role's posterior is below this (1: every line is).</summary>
    [Range(0.0, 1.0)]
    public double Threshold { get; set; } = 0.1;

    /// <summary>A line is taken over when another role's posterior is ahead of the assigned role's by at least this.</summary>
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double Margin { get; set; } = 0.5;

    /// <summary>Consecutive taken-over lines that make a takeover, and held lines that make a recovery (hysteresis).</summary>
    [Range(1, 1000)]
    public int ConsecutiveLines { get; set; } = 2;

    /// <summary>Witnessed lines before the first taken-over line that the trigger search leaves out one at a time (0: no search).</summary>
    [Range(0, 64)]
    public int TriggerWindow { get; set; } = 4;

    /// <summary>Posterior = softmax(sharpness × mean log-likelihood per token): higher makes the posterior more decided.</summary>
    [Range(0.0, 1000.0, MinimumIsExclusive = true)]
    public double Sharpness { get; set; } = 12;

    /// <summary>
    /// Two stages: score each line first under the assigned card and no persona only (the assigned score reuses the
    /// character's own cached prompt, the no-persona session is shared by the scene's cast), and under every other
    /// role only when the assigned card does not beat no persona by <see cref="ScreenMargin"/>, or while the character
    /// is taken over. Off: every line under every role.
    /// </summary>
    public bool Screen { get; set; } = true;

    /// <summary>
    /// Mean log-likelihood per token (nats) by which the assigned card must explain a line better than no persona for
    /// the first stage to hold it. Higher sends more lines to the full scoring.
    /// </summary>
    [Range(0.0, 10.0)]
    public double ScreenMargin { get; set; } = 0.02;

    /// <summary>
    /// Score the rival roles (the other characters' and the watched ones) from cards without the speaker's name, the
    /// same text for every speaker, so the cast shares one cached session per rival role instead of one per speaker
    /// and role. Off: each speaker's rivals carry its name, as its own card does.
    /// </summary>
    public bool SharedRivals { get; set; } = true;

    /// <summary>The detector's settings.</summary>
    public DetectorSettings Detector => new(Threshold, Margin, ConsecutiveLines);

    /// <summary>Throws <see cref="ValidationException"/> naming the first invalid setting.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <summary>Rules across settings; run by <see cref="Validate()"/> and by the options pipeline.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (Screen && Threshold > 0.5)
        {
            // A screened line's assigned card beat no persona, so its posterior of the two is at least 0.5: held only
            // while a taken-over line needs less than that.
            yield return new ValidationResult(
                $"{SectionName}:Threshold above 0.5 needs {SectionName}:Screen off (a screened line is held with a posterior of at least 0.5).",
                [nameof(Threshold), nameof(Screen)]);
        }

        if (!double.IsFinite(Sharpness))
        {
            yield return new ValidationResult($"{SectionName}:Sharpness must be a finite number.", [nameof(Sharpness)]);
        }
    }
}
