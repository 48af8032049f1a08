using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AgentTheater.Web.Hosting;

/// <summary>
/// When <see cref="TheaterHttpOptions.ApiKeys"/> are set, a request needs one of them, as <c>Authorization: Bearer KEY</c>
/// or in the <c>agent-theater-key</c> cookie the page sets (a browser's EventSource and the dashboard cannot send a
/// header). Health probes and the page's own files (which hold no data) need none.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<TheaterHttpOptions> options)
{
    /// <summary>The cookie the page stores the key in.</summary>
    public const string Cookie = "agent-theater-key";

    private static readonly HashSet<string> Open = new(StringComparer.OrdinalIgnoreCase)
    {
        "/health/live", "/health/ready", "/", "/index.html", "/theater.js", "/theater.css", "/favicon.ico",
    };

    // Keys are compared as hashes, in constant time: neither their length nor a matching prefix leaks.
    private readonly byte[][] _keys = [.. options.Value.ApiKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k.Trim())))];

    public async Task InvokeAsync(HttpContext context)
    {
        if (_keys.Length == 0 || Open.Contains(context.Request.Path.Value ?? "/") || Presented(context) is { } key && Known(key))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(
            title: "API key required",
            detail: "Send one of the server's API keys (Http:ApiKeys) as 'Authorization: Bearer KEY'.",
            statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(context);
    }

    private static string? Presented(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return context.Request.Cookies.TryGetValue(Cookie, out var cookie) ? Uri.UnescapeDataString(cookie) : null;
    }

    private bool Known(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var known = false;
        foreach (var key in _keys)
        {
            known |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return known;
    }
}
