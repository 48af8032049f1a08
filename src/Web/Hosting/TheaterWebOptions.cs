using System.ComponentModel.DataAnnotations;

namespace AgentTheater.Web.Hosting;

/// <summary>The web app of a silo or of <c>agent-theater serve</c> (section <c>Web</c>).</summary>
public sealed class TheaterWebOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Web";

    /// <summary>Where runs started through the API write their run folders (<c>&lt;folder&gt;/&lt;run id&gt;/</c>).</summary>
    [Required]
    public string RunsFolder { get; set; } = "runs";

    /// <summary>Serve the Orleans Dashboard at <c>/dashboard</c>.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// Requests that do work (<c>/v1</c> completions, starting runs, forks, interventions, pause, resume, stop) served at
    /// once; more wait in a queue of <see cref="MaxQueuedRequests"/>.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentRequests { get; set; } = 256;

    /// <summary>Requests that do work waiting for one of <see cref="MaxConcurrentRequests"/>; beyond it, 429 with Retry-After.</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedRequests { get; set; } = 1024;

    /// <summary>The rate-limiting policy of requests that do work.</summary>
    internal const string WorkPolicy = "work";
}
