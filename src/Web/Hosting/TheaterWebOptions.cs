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
}
