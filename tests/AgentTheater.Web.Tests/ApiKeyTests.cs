using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Http.Headers;
using AgentTheater.Grains;
using AgentTheater.Grains.Storage;
using AgentTheater.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentTheater.Web.Tests;

/// <summary>Who may call the web app: loopback by default, an API key whenever it listens beyond this machine.</summary>
public sealed class ApiKeyTests
{
    private const string Key = "a-key-of-thirty-two-characters-0";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData(null, "http://localhost:8080;http://127.0.0.2:9000")]
    public void Validate_LoopbackWithoutKeys_IsValid(string? address, string? urls)
    {
        var options = new TheaterHttpOptions { Address = address ?? "127.0.0.1", Urls = urls };

        Assert.Empty(Problems(options));
        Assert.Empty(options.PublicUrls());
    }

    [Theory]
    [InlineData("0.0.0.0", null, "http://0.0.0.0:8080")]
    [InlineData("10.1.2.3", null, "http://10.1.2.3:8080")]
    [InlineData("127.0.0.1", "http://127.0.0.1:1;http://*:8080", "http://*:8080")]
    public void Validate_BeyondLoopbackWithoutKeys_NamesHttpApiKeysAndTheUrl(string address, string? urls, string open)
    {
        var problem = Assert.Single(Problems(new TheaterHttpOptions { Address = address, Urls = urls }));

        Assert.StartsWith("Http:ApiKeys:", problem, StringComparison.Ordinal);
        Assert.Contains(open, problem, StringComparison.Ordinal);
        Assert.Empty(Problems(new TheaterHttpOptions { Address = address, Urls = urls, ApiKeys = [Key] }));
    }

    [Fact]
    public void Validate_ShortKey_NamesTheMinimumLength()
    {
        var problem = Assert.Single(Problems(new TheaterHttpOptions { ApiKeys = ["short"] }));

        Assert.Contains($"{TheaterHttpOptions.MinimumKeyLength} characters", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_WithKeysSet_NeedOneByHeaderOrCookie_ExceptHealthAndThePage()
    {
        using var folder = new TempDirectory();
        await using var app = await StartAsync([Key, "another-key-of-sixteen"], folder);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        // Without a key: 401 naming the scheme; the page's own files and the health probes answer.
        using var anonymous = await http.GetAsync("/openapi/v1.json", Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        foreach (var open in new[] { "/", "/theater.js", "/theater.css", "/health/live", "/health/ready" })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(open, Cancel)).StatusCode);
        }

        // Any configured key works as a bearer token or as the page's cookie; a wrong or partial one does not.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/openapi/v1.json", bearer: Key)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/openapi/v1.json", bearer: "another-key-of-sixteen")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/openapi/v1.json", cookie: Uri.EscapeDataString(Key))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, "/openapi/v1.json", bearer: Key[..^1])).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, "/openapi/v1.json", bearer: Key + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, "/v1/models", cookie: "nope")).StatusCode);
    }

    [Fact]
    public async Task Requests_WithoutKeys_AreAllAnswered()
    {
        using var folder = new TempDirectory();
        await using var app = await StartAsync([], folder);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/openapi/v1.json", Cancel)).StatusCode);
    }

    private static List<string> Problems(TheaterHttpOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage!)];
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? bearer = null, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", $"{ApiKeyMiddleware.Cookie}={cookie}");
        }

        return await http.SendAsync(request, Cancel);
    }

    /// <summary>
    /// The web app with <paramref name="keys"/> on a silo without a model (no request here reaches a grain), and the
    /// health probes the standalone silo maps.
    /// </summary>
    private static async Task<WebApplication> StartAsync(List<string> keys, TempDirectory folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: TheaterServerFixture.FreePort(), gatewayPort: TheaterServerFixture.FreePort())
            .AddSqliteGrainStorage(TheaterStorage.Name, o => o.DatabasePath = folder.File("state.db")));
        builder.AddTheaterWeb(o => o.Dashboard = false);
        builder.Services.Configure<TheaterHttpOptions>(o => o.ApiKeys = keys);
        var app = builder.Build();
        app.MapGet("/health/live", () => Results.Ok("live"));
        app.MapGet("/health/ready", () => Results.Ok("ready"));
        app.MapTheaterWeb();
        await app.StartAsync(Cancel);
        return app;
    }
}
