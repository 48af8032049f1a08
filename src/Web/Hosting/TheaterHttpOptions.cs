using System.ComponentModel.DataAnnotations;
using System.Net;

namespace AgentTheater.Web.Hosting;

/// <summary>
/// Where the HTTP endpoint listens and who may call it (section <c>Http</c>): loopback unless configured, and an API
/// key required whenever it listens beyond this machine.
/// </summary>
public sealed class TheaterHttpOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Http";

    /// <summary>Shortest API key accepted: a key is a secret, not a password people type.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>The address the HTTP endpoint listens on: loopback unless configured (<c>0.0.0.0</c> for every address).</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port of the HTTP endpoint.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Listen URLs, separated by <c>;</c> (e.g. <c>http://0.0.0.0:8080</c>); when set, they replace
    /// <see cref="Address"/> and <see cref="Port"/>.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>
    /// API keys, any of which a request may send as <c>Authorization: Bearer KEY</c>. Required (at least one) when the
    /// endpoint listens beyond loopback; when set, every endpoint but <c>/health/live</c>, <c>/health/ready</c> and the
    /// page's own files asks for one. Give them by environment (<c>Http__ApiKeys__0</c>) or as secret files.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>The URLs the endpoint listens on.</summary>
    public IReadOnlyList<string> ListenUrls() =>
        string.IsNullOrWhiteSpace(Urls)
            ? [$"http://{(Address.Contains(':', StringComparison.Ordinal) ? $"[{Address}]" : Address)}:{Port}"]
            : [.. Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>The listen URLs that reach beyond this machine (any host but a loopback address or <c>localhost</c>).</summary>
    public IReadOnlyList<string> PublicUrls() => [.. ListenUrls().Where(url => !IsLoopback(url))];

    /// <summary>Rules across settings.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(Address, out _))
        {
            yield return new ValidationResult($"Http:Address '{Address}' is not an IP address.", [nameof(Address)]);
        }

        foreach (var url in ListenUrls())
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return new ValidationResult($"Http:Urls: '{url}' is not an http or https URL.", [nameof(Urls)]);
            }
        }

        if (ApiKeys.Any(k => string.IsNullOrWhiteSpace(k) || k.Trim().Length < MinimumKeyLength))
        {
            yield return new ValidationResult($"Http:ApiKeys: every key needs at least {MinimumKeyLength} characters.", [nameof(ApiKeys)]);
        }

        if (ApiKeys.Count == 0 && PublicUrls() is [var open, ..])
        {
            yield return new ValidationResult(
                $"Http:ApiKeys: the HTTP endpoint listens on {open}, beyond this machine, and no API key is set. Set one (Http__ApiKeys__0, or a secret file) or listen on 127.0.0.1 (Http:Address).",
                [nameof(ApiKeys)]);
        }
    }

    private static bool IsLoopback(string url)
    {
        var host = url.Split("://", 2) is [_, var rest] ? rest.Split('/')[0] : url;
        host = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
