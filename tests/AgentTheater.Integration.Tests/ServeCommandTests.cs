using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// <c>agent-theater serve</c> as a process, driven through its page in Debian's chromium (Playwright with the system
/// browser: nothing downloaded) and through its API.
/// </summary>
public sealed partial class ServeCommandTests(TheaterClusterFixture fixture)
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Two characters, many short turns: long enough to watch, whisper into and stop.</summary>
    private const string Scenario = """
        name: watched
        characters:
          - id: keeper
            name: Marta
            role: the innkeeper of the Grey Goose
            goals: [keep the peace]
            private_knowledge: [the cellar door sticks]
            speaking_style: brisk
          - id: guest
            name: Wren
            role: a boatwoman
            goals: [find a room]
            private_knowledge: [she owes the ferryman]
            speaking_style: dry
        scenes:
          - id: hall
            setting: The common room at night.
            present: [keeper, guest]
            narration: [Rain on the shutters.]
            max_turns: 200
        sampling:
          temperature: 0.8
          max_tokens_per_line: 12
          seed: 5
        """;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_PageStartsARun_LinesAppearWhileItPlays_AndAWhisperReachesOnlyItsCharacter()
    {
        Assert.SkipUnless(File.Exists(Chromium), $"{Chromium} is not installed (.ci/run installs Debian's chromium).");
        var folder = Path.Combine(fixture.Directory, $"serve-{Guid.NewGuid():N}");
        await using var serve = await ServeProcess.StartAsync(fixture.ModelPath, folder);
        using var http = new HttpClient { BaseAddress = serve.Url };

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1300, Height = 900 } });
        page.SetDefaultTimeout(60_000);

        // A scenario with errors: each is listed, and marked at its line in the listing.
        await page.GotoAsync(new Uri(serve.Url, "/#/start").ToString());
        await page.GetByTestId("scenario-yaml").FillAsync("name: broken\ncharacters: 3\n");
        await page.GetByTestId("start-run").ClickAsync();
        var errors = page.GetByTestId("scenario-error");
        await errors.First.WaitForAsync();
        Assert.Equal(["1", "2"], (await errors.EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.line)")).Order());
        Assert.Equal(1, await page.Locator(".listing .ln.error[data-n='2']").CountAsync());

        // Start from the page; the run's page opens, then the scene's.
        await page.GetByTestId("scenario-yaml").FillAsync(Scenario);
        await page.GetByTestId("start-run").ClickAsync();
        await page.WaitForURLAsync(new Regex("#/runs/watched-"));
        var runId = Uri.UnescapeDataString(page.Url[(page.Url.IndexOf("#/runs/", StringComparison.Ordinal) + "#/runs/".Length)..]);
        await page.GetByTestId("scene-row").First.GetByRole(AriaRole.Link).ClickAsync();

        // Lines appear as they are spoken, while the scene still plays.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=line][data-kind=character]').length >= 4");
        var scene = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}/scenes/hall/0", Cancel);
        Assert.Equal("playing", scene.GetProperty("status").GetProperty("phase").GetString());

        // Whisper to the guest from the page: the line shows as a whisper, and only the guest witnessed it.
        const string Secret = "The key is under the blue stone.";
        await page.GetByTestId("intervene-to").SelectOptionAsync("guest");
        await page.GetByTestId("intervene-text").FillAsync(Secret);
        await page.GetByTestId("intervene-send").ClickAsync();
        await ExplainTimeoutAsync(() => page.GetByTestId("whisper").First.WaitForAsync(), page, http, serve, $"/api/runs/{runId}/scenes/hall/0");
        var whispered = page.Locator("[data-testid=line][data-kind=intervention]");
        Assert.Equal("guest", await whispered.First.GetAttributeAsync("data-to"));
        var guest = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}/scenes/hall/0/characters/guest", Cancel);
        var keeper = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}/scenes/hall/0/characters/keeper", Cancel);
        Assert.Contains(guest.GetProperty("witnessed").EnumerateArray(), l => l.GetProperty("text").GetString() == Secret);
        Assert.DoesNotContain(keeper.GetProperty("witnessed").EnumerateArray(), l => l.GetProperty("text").GetString() == Secret);
        Assert.DoesNotContain(Secret, keeper.GetProperty("prompt").GetString(), StringComparison.Ordinal);

        // Attribution reaches the page: each character's chart gains points.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=chart]')].every(c => Number(c.dataset.points) > 0)");

        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "serve-scene.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is suspiciously small");

        // Stop the run; the page shows the end, and the run folder is written.
        (await http.PostAsync($"/api/runs/{runId}/stop", null, Cancel)).EnsureSuccessStatusCode();
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=scene-status]').dataset.phase === 'completed'");
        await WaitForFileAsync(Path.Combine(folder, "runs", runId, "summary.json"));
        var transcript = File.ReadAllLines(Path.Combine(folder, "runs", runId, "scenes", "hall-0.jsonl"));
        Assert.Equal(await page.Locator("[data-testid=line]").CountAsync(), transcript.Length);
    }

    [Fact]
    public async Task Serve_RunStartedThroughTheApi_WritesTheSameFilesAsTheRunCommand()
    {
        var folder = Path.Combine(fixture.Directory, $"serve-files-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var scenarioFile = Path.Combine(folder, "short.yaml");
        await File.WriteAllTextAsync(scenarioFile, Scenario.Replace("max_turns: 200", "max_turns: 4", StringComparison.Ordinal), Cancel);

        var cli = await RunCommandTests.AgentTheaterAsync("run", scenarioFile, "--replicas", "2", "--model", fixture.ModelPath, "--out", Path.Combine(folder, "cli"));
        Assert.True(cli.Code == 0, $"exit {cli.Code}\n{cli.Stdout}\n{cli.Stderr}");
        var cliRun = Assert.Single(Directory.GetDirectories(Path.Combine(folder, "cli")));

        await using var serve = await ServeProcess.StartAsync(fixture.ModelPath, Path.Combine(folder, "serve"));
        using var http = new HttpClient { BaseAddress = serve.Url };

        // The OpenAPI document describes the API and the OpenAI-compatible endpoint; the dashboard is on by default.
        var openApi = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Cancel);
        var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/runs", paths);
        Assert.Contains("/api/runs/{runId}/scenes/{sceneId}/{replica}/events", paths);
        Assert.Contains("/v1/chat/completions", paths);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/dashboard/", Cancel)).StatusCode);

        using var body = new StringContent(await File.ReadAllTextAsync(scenarioFile, Cancel), Encoding.UTF8, "application/yaml");
        var started = await (await http.PostAsync("/api/runs?replicas=2", body, Cancel)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var apiRun = Path.Combine(folder, "serve", "runs", started.GetProperty("runId").GetString()!);
        await WaitForFileAsync(Path.Combine(apiRun, "summary.json"));

        // The same record files; the embedded run also keeps its silo's state and traces, which serve keeps for all its runs.
        string[] embeddedOnly = ["state.db", "state.db-shm", "state.db-wal", "traces.jsonl"];
        Assert.Equal(Files(cliRun).Except(embeddedOnly), Files(apiRun));
        foreach (var transcript in Directory.GetFiles(Path.Combine(cliRun, "scenes"), "*.jsonl"))
        {
            var other = Path.Combine(apiRun, "scenes", Path.GetFileName(transcript));
            Assert.Equal(
                File.ReadAllLines(transcript).Select(l => Shape(JsonDocument.Parse(l).RootElement)),
                File.ReadAllLines(other).Select(l => Shape(JsonDocument.Parse(l).RootElement)));
        }

        Assert.Equal(
            JsonDocument.Parse(File.ReadAllText(Path.Combine(cliRun, "summary.json"))).RootElement.EnumerateObject().Select(p => p.Name),
            JsonDocument.Parse(File.ReadAllText(Path.Combine(apiRun, "summary.json"))).RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(File.ReadAllText(scenarioFile), File.ReadAllText(Path.Combine(apiRun, "scenario.yaml")));
    }

    /// <summary>A transcript line's structure: its fields, index, turn, kind and speaker (the text is sampled).</summary>
    private static string Shape(JsonElement line) =>
        $"{string.Join(',', line.EnumerateObject().Select(p => p.Name))} {line.GetProperty("index")} {line.GetProperty("turn")} {line.GetProperty("kind")} {line.GetProperty("speaker")}";

    private static List<string> Files(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];

    private static async Task WaitForFileAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"{path} was not written within 3 minutes");
            await Task.Delay(200, Cancel);
        }
    }

    /// <summary>
    /// Waits for the page; when that times out, fails with what the page and the server show: what the intervention
    /// box answered, the scene's status, and the end of the server's output.
    /// </summary>
    private static async Task ExplainTimeoutAsync(Func<Task> wait, IPage page, HttpClient http, ServeProcess serve, string scenePath)
    {
        try
        {
            await wait();
        }
        catch (TimeoutException e)
        {
            var answered = await page.Locator(".intervene-result").TextContentAsync(new() { Timeout = 5_000 });
            var status = await page.GetByTestId("scene-status").TextContentAsync(new() { Timeout = 5_000 });
            var scene = await http.GetStringAsync(scenePath, Cancel);
            var output = serve.Output;
            throw new TimeoutException(
                $"{e.Message}\nintervention box: {answered}\npage status: {status}\nscene: {scene[..Math.Min(scene.Length, 600)]}\nserver output (end):\n{output[Math.Max(0, output.Length - 4000)..]}", e);
        }
    }

    /// <summary>A running <c>agent-theater serve --port 0</c>, its URL read from the line it prints.</summary>
    private sealed partial class ServeProcess(Process process, StringBuilder output, Uri url) : IAsyncDisposable
    {
        public Uri Url { get; } = url;

        /// <summary>What the process printed so far.</summary>
        public string Output => TestProcesses.Text(output);

        public static async Task<ServeProcess> StartAsync(string model, string folder)
        {
            Directory.CreateDirectory(folder);
            var process = TestProcesses.StartDotnet(
                TestProcesses.CliAssembly, "serve", "--port", "0", "--model", model, "--out", Path.Combine(folder, "runs"), "--sequences", "16", "--context", "1024");
            var output = TestProcesses.Collect(process);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (Listening().Match(TestProcesses.Text(output)) is { Success: true } match)
                {
                    return new ServeProcess(process, output, new Uri(match.Groups["url"].Value));
                }

                Assert.False(process.HasExited, $"serve exited with {(process.HasExited ? process.ExitCode : 0)}:\n{TestProcesses.Text(output)}");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"serve printed no address within 2 minutes:\n{TestProcesses.Text(output)}");
                await Task.Delay(100, Cancel);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await TestProcesses.StopAsync(process);
            process.Dispose();
            GC.KeepAlive(output);
        }

        [GeneratedRegex(@"listening on (?<url>http://127\.0\.0\.1:\d+)")]
        private static partial Regex Listening();
    }
}
