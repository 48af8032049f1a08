using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Web.Api;

namespace AgentTheater.Web.Tests;

/// <summary>
/// The HTTP API over real HTTP: runs started from YAML on a one-silo cluster with the real llama.cpp pool, their scenes
/// followed, paused, stopped, whispered to and forked, and their folders written.
/// </summary>
public sealed class TheaterApiTests(TheaterServerFixture server) : IClassFixture<TheaterServerFixture>, IDisposable
{
    private const string SceneId = "lamp-room";

    /// <summary>The API's JSON: camelCase, enums in kebab-case.</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>Longest any wait for the theater may take before the test fails (typical waits take a few seconds).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = server.CreateClient();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task StartRun_WithReplicas_PlaysEveryReplicaListsTheRunAndWritesItsFolder()
    {
        var yaml = Scenario("folder", turns: 3);

        using var response = await _http.PostAsync("/api/runs?replicas=2", Yaml(yaml), Cancel);

        await AssertStatusAsync(HttpStatusCode.Created, response);
        var runId = (await response.Content.ReadFromJsonAsync<RunStarted>(Json, Cancel))!.RunId;
        Assert.StartsWith("folder-", runId, StringComparison.Ordinal);
        Assert.Equal($"/api/runs/{runId}", response.Headers.Location?.OriginalString);
        var listed = Assert.Single(await GetAsync<List<RunView>>("/api/runs"), r => r.RunId == runId);
        Assert.Equal(("folder", 2), (listed.Scenario, listed.Scenes));

        var run = await WaitForRunWrittenAsync(runId);

        Assert.Equal((2, 2, 0, 0, true, false), (run.Scenes, run.Completed, run.Failed, run.Playing, run.Done, run.Stopped));
        Assert.Equal(6L, run.Lines);
        var summary = run.Summary!.Value;
        Assert.Equal(runId, summary.GetProperty("runId").GetString());
        Assert.Equal(2, summary.GetProperty("completed").GetInt32());
        Assert.Equal(6, summary.GetProperty("characterLines").GetInt32());
        var scenes = await GetAsync<List<SceneEntry>>($"/api/runs/{runId}/scenes");
        Assert.Equal([$"{runId}/{SceneId}/0", $"{runId}/{SceneId}/1"], scenes.Select(s => s.Key));
        Assert.All(scenes, s => Assert.Equal((SceneId, ScenePhase.Completed, 3), (s.SceneId, s.Status.Phase, s.Status.Turns)));

        var folder = Path.Combine(server.RunsFolder, runId);
        Assert.Equal([$"{SceneId}-0.jsonl", $"{SceneId}-0.md", $"{SceneId}-1.jsonl", $"{SceneId}-1.md"], FileNames(Path.Combine(folder, "scenes")));
        Assert.Equal(
            ["attribution.jsonl", "run.json", "scenario.yaml", "summary.json", "summary.md", "takeovers.jsonl"],
            FileNames(folder));
        Assert.Equal(yaml, await File.ReadAllTextAsync(Path.Combine(folder, "scenario.yaml"), Cancel));
        using var info = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "run.json"), Cancel));
        Assert.Equal(server.ModelPath, info.RootElement.GetProperty("model").GetString());
        var transcript = (await GetAsync<SceneView>(SceneUrl(runId, replica: "1"))).Lines;
        var written = (await File.ReadAllLinesAsync(Path.Combine(folder, "scenes", $"{SceneId}-1.jsonl"), Cancel)).Select(l => JsonSerializer.Deserialize<SceneLine>(l, Json));
        Assert.Equal(transcript, written);
        Assert.Equal(6, (await File.ReadAllLinesAsync(Path.Combine(folder, "attribution.jsonl"), Cancel)).Length);
    }

    [Fact]
    public async Task StartRun_ScenarioWithErrors_Returns400ListingEveryErrorWithItsPosition()
    {
        const string yaml = """
            name: broken
            characters:
              - id: keeper
                name: Marta
                role: the keeper of a lighthouse
            scenes:
              - id: lamp-room
                present: [keeper, ghost]
                max_turns: 0
            """;

        using var response = await _http.PostAsync("/api/runs", Yaml(yaml), Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.BadRequest, response);
        Assert.Equal("The scenario has 3 errors", problem.RootElement.GetProperty("title").GetString());
        var errors = problem.RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("column").GetInt32(), e.GetProperty("field").GetString()))
            .Order()
            .ToList();
        Assert.Equal([(7, 5, "scenes[0].setting"), (8, 23, "scenes[0].present[1]"), (9, 16, "scenes[0].max_turns")], errors);
        Assert.All(problem.RootElement.GetProperty("errors").EnumerateArray(), e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString())));
        Assert.Contains("ghost", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(RunFolders("broken"));
    }

    [Fact]
    public async Task StartRun_InvalidYaml_Returns400WithThePosition()
    {
        using var response = await _http.PostAsync("/api/runs", Yaml("name: broken\ncharacters: [keeper\n"), Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.BadRequest, response);
        var error = Assert.Single(problem.RootElement.GetProperty("errors").EnumerateArray());
        Assert.True(error.GetProperty("line").GetInt32() >= 2, error.ToString());
        Assert.Contains("YAML", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData(null)]
    public async Task StartRun_NotYaml_Returns415NamingTheTypeToSend(string? contentType)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Scenario("json", turns: 1)));
        content.Headers.ContentType = contentType is null ? null : new(contentType);

        using var response = await _http.PostAsync("/api/runs", content, Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, response);
        var detail = problem.RootElement.GetProperty("detail").GetString();
        Assert.Contains("Content-Type: application/yaml", detail, StringComparison.Ordinal);
        Assert.Contains($"'{contentType ?? "(none)"}'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_StartRun_DescribesTheYamlBody()
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync("/openapi/v1.json", Cancel));

        var body = document.RootElement.GetProperty("paths").GetProperty("/api/runs").GetProperty("post").GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        Assert.Contains("application/yaml", body.GetProperty("content").EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StartRun_BodyOverOneMebibyte_Returns413(bool chunked)
    {
        var yaml = Scenario("large", turns: 1) + "# " + new string('x', 1 << 20) + "\n";
        HttpContent content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(yaml)))
            : new StringContent(yaml, Encoding.UTF8);
        content.Headers.ContentType = new("application/yaml");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = content };
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await _http.SendAsync(request, Cancel);

        (await AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, response)).Dispose();
        Assert.DoesNotContain(await GetAsync<List<RunView>>("/api/runs"), r => r.Scenario == "large");
        Assert.Empty(RunFolders("large"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_001)]
    public async Task StartRun_ReplicasOutOfRange_Returns400(int replicas)
    {
        using var response = await _http.PostAsync($"/api/runs?replicas={replicas}", Yaml(Scenario("replicas", turns: 1)), Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.BadRequest, response);
        Assert.Contains("replicas", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(await GetAsync<List<RunView>>("/api/runs"), r => r.Scenario == "replicas");
        Assert.Empty(RunFolders("replicas"));
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/scenes")]
    [InlineData("POST", "/pause")]
    [InlineData("POST", "/resume")]
    [InlineData("POST", "/stop")]
    public async Task Run_UnknownRun_Returns404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/runs/no-such-run{path}");

        using var response = await _http.SendAsync(request, Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.NotFound, response);
        Assert.Contains("no-such-run", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetScene_PlayedScene_HasStatusSettingCastLineageAndLines()
    {
        var runId = await StartRunAsync(Scenario("scene", turns: 2));
        await WaitForRunWrittenAsync(runId);

        var scene = await GetAsync<SceneView>(SceneUrl(runId));

        Assert.Equal(($"{runId}/{SceneId}/0", runId, SceneId, "0"), (scene.Key, scene.RunId, scene.SceneId, scene.Replica));
        Assert.Equal((ScenePhase.Completed, 2, 3, "max turns (2)"), (scene.Status.Phase, scene.Status.Turns, scene.Status.Lines, scene.Status.EndReason));
        Assert.Equal("The lamp room of a lighthouse on a stormy night.", scene.Setting);
        Assert.Equal(2, scene.MaxTurns);
        Assert.Equal([new CastMember("keeper", "Marta", "the keeper of the lighthouse"), new CastMember("visitor", "Ambrose", "a traveller caught by the storm")], scene.Cast);
        Assert.Equal((scene.Key, null, 0), (scene.Lineage.SceneKey, scene.Lineage.Origin, scene.Lineage.Forks.Count));
        Assert.Equal([(0, LineKind.Narrator, "Narrator"), (1, LineKind.Character, "Marta"), (2, LineKind.Character, "Ambrose")], scene.Lines.Select(l => (l.Index, l.Kind, l.Speaker)));

        // Enums are kebab-case on the wire, names camelCase.
        using var raw = JsonDocument.Parse(await _http.GetStringAsync(SceneUrl(runId), Cancel));
        Assert.Equal("completed", raw.RootElement.GetProperty("status").GetProperty("phase").GetString());
        Assert.Equal("narrator", raw.RootElement.GetProperty("lines")[0].GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("GET", "lamp-room/9")]
    [InlineData("GET", "cellar/0")]
    [InlineData("GET", "lamp-room/9/events")]
    [InlineData("GET", "lamp-room/0/characters/ghost")]
    [InlineData("POST", "lamp-room/9/interventions")]
    [InlineData("POST", "lamp-room/9/forks")]
    public async Task Scene_UnknownSceneOrCharacter_Returns404(string method, string path)
    {
        var runId = await StartRunAsync(Scenario("missing", turns: 1));
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/runs/{runId}/scenes/{path}");
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { text = "Hello?", branches = 1 });
        }

        using var response = await _http.SendAsync(request, Cancel);

        (await AssertProblemAsync(HttpStatusCode.NotFound, response)).Dispose();
        await WaitForRunWrittenAsync(runId);
    }

    [Fact]
    public async Task SceneEvents_FollowedWhileTheScenePlays_SendEveryLineOnceInOrderAttributionAfterItsLineAndEndLast()
    {
        // Paused first, so that the stream surely replays the lines so far and then follows the rest as they are spoken.
        var runId = await StartRunAsync(Scenario("events", turns: 30));
        await PostAsync<RunView>($"/api/runs/{runId}/pause");
        var before = await WaitForPauseAsync(runId);
        await using var stream = await EventStream.OpenAsync(_http, SceneUrl(runId) + "/events");
        await stream.ReadLinesAsync(before);

        await PostAsync<RunView>($"/api/runs/{runId}/resume");
        await stream.ReadToEndAsync();

        var events = stream.Events;
        var transcript = (await GetAsync<SceneView>(SceneUrl(runId))).Lines;
        Assert.True(before < transcript.Count, $"every line ({transcript.Count}) was spoken before the stream opened");
        var lines = events.Where(e => e.Name == "line").ToList();
        Assert.Equal(transcript.Select(l => Id(l.Index)), lines.Select(e => e.Id));
        Assert.Equal(transcript, lines.Select(e => JsonSerializer.Deserialize<SceneLine>(e.Data, Json)));

        var end = events[^1];
        Assert.Equal("end", end.Name);
        Assert.Single(events, e => e.Name == "end");
        var status = JsonSerializer.Deserialize<SceneStatus>(end.Data, Json)!;
        Assert.Equal((ScenePhase.Completed, 30, "max turns (30)"), (status.Phase, status.Turns, status.EndReason));

        var sent = -1;
        var attributed = new List<int>();
        foreach (var e in events)
        {
            switch (e.Name)
            {
                case "line":
                    sent = int.Parse(e.Id!, CultureInfo.InvariantCulture);
                    break;
                case "attribution":
                    Assert.Null(e.Id);
                    var attribution = JsonSerializer.Deserialize<LineAttribution>(e.Data, Json)!;
                    Assert.True(attribution.Index <= sent, $"attribution of line {attribution.Index} came before the line (last line sent: {sent})");
                    attributed.Add(attribution.Index);
                    break;
                case "takeover" or "recovery":
                    Assert.Null(e.Id);
                    Assert.True(JsonSerializer.Deserialize<RoleTakeover>(e.Data, Json)!.DetectedLineIndex <= sent);
                    break;
            }
        }

        Assert.Equal(transcript.Where(l => l.Kind == LineKind.Character).Select(l => l.Index), attributed);
    }

    [Fact]
    public async Task SceneEvents_ReconnectWithLastEventId_ResumesAfterThatLineSoEveryLineArrivesOnce()
    {
        var runId = await StartRunAsync(Scenario("reconnect", turns: 60));
        var url = SceneUrl(runId) + "/events";
        await PostAsync<RunView>($"/api/runs/{runId}/pause");
        var before = await WaitForPauseAsync(runId);
        List<ServerEvent> first;
        await using (var stream = await EventStream.OpenAsync(_http, url))
        {
            await stream.ReadLinesAsync(before);
            await PostAsync<RunView>($"/api/runs/{runId}/resume");

            // Disconnect while the scene plays: three lines after the pause.
            await stream.ReadLinesAsync(before + 3);
            first = stream.Events;
        }

        var lastId = first.Last(e => e.Name == "line").Id!;
        var second = await ReadEventsAsync(url, lastEventId: lastId);
        var third = await ReadEventsAsync($"{url}?after={lastId}");

        var scene = await GetAsync<SceneView>(SceneUrl(runId));
        Assert.Equal(ScenePhase.Completed, scene.Status.Phase);
        Assert.Equal(Id(before + 2), lastId);
        var union = first.Concat(second).Where(e => e.Name == "line").ToList();
        Assert.Equal(scene.Lines.Select(l => Id(l.Index)), union.Select(e => e.Id));
        Assert.Equal(scene.Lines, union.Select(e => JsonSerializer.Deserialize<SceneLine>(e.Data, Json)));
        Assert.Equal("end", second[^1].Name);
        Assert.Equal(second.Where(e => e.Name == "line").Select(e => e.Id), third.Where(e => e.Name == "line").Select(e => e.Id));
        Assert.Equal("end", third[^1].Name);
    }

    [Fact]
    public async Task PauseRun_PlayingScene_StopsItsLinesUntilResumedThenItCompletes()
    {
        var runId = await StartRunAsync(Scenario("pause", turns: 100));

        var paused = await PostAsync<RunView>($"/api/runs/{runId}/pause");

        Assert.True(paused.Paused);
        Assert.False(paused.Done);
        var lines = await WaitForPauseAsync(runId);
        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        var still = await GetAsync<SceneView>(SceneUrl(runId));
        Assert.Equal(lines, still.Lines.Count);
        Assert.Equal((ScenePhase.Playing, true), (still.Status.Phase, still.Status.Paused));
        Assert.True(still.Status.Turns < 100, $"the scene played all {still.Status.Turns} turns before the pause");
        var run = await GetAsync<RunView>($"/api/runs/{runId}");
        Assert.Equal((true, 1, false), (run.Paused, run.Playing, run.Done));

        var resumed = await PostAsync<RunView>($"/api/runs/{runId}/resume");

        Assert.False(resumed.Paused);
        var done = await WaitForRunWrittenAsync(runId);
        Assert.Equal((1, false, false), (done.Completed, done.Paused, done.Stopped));
        var scene = await GetAsync<SceneView>(SceneUrl(runId));
        Assert.Equal((ScenePhase.Completed, 100, "max turns (100)", false), (scene.Status.Phase, scene.Status.Turns, scene.Status.EndReason, scene.Status.Paused));
    }

    [Fact]
    public async Task StopRun_PlayingScenes_EndsEveryOneEarlyAsStoppedAndTheRunIsDone()
    {
        var runId = await StartRunAsync(Scenario("stop", turns: 1000), "?replicas=3");
        await WaitForAsync(() => GetAsync<RunView>($"/api/runs/{runId}"), r => r.Lines >= 3, "three lines spoken");

        var stopped = await PostAsync<RunView>($"/api/runs/{runId}/stop");

        Assert.True(stopped.Stopped);
        var run = await WaitForRunWrittenAsync(runId);
        Assert.Equal((3, 3, 0, true, true), (run.Scenes, run.Completed, run.Failed, run.Done, run.Stopped));
        var scenes = await GetAsync<List<SceneEntry>>($"/api/runs/{runId}/scenes");
        Assert.Equal(3, scenes.Count);
        Assert.All(scenes, s => Assert.Equal((ScenePhase.Completed, "stopped"), (s.Status.Phase, s.Status.EndReason)));
        Assert.All(scenes, s => Assert.InRange(s.Status.Turns, 0, 999));
        Assert.Equal(3, run.Summary!.Value.GetProperty("completed").GetInt32());
    }

    [Fact]
    public async Task StopRun_PausedRun_EndsItsScenesAsStopped()
    {
        var runId = await StartRunAsync(Scenario("stop-paused", turns: 1000));
        await PostAsync<RunView>($"/api/runs/{runId}/pause");
        await WaitForPauseAsync(runId);

        var stopped = await PostAsync<RunView>($"/api/runs/{runId}/stop");

        Assert.Equal((true, false), (stopped.Stopped, stopped.Paused));
        var run = await WaitForRunWrittenAsync(runId);
        Assert.Equal((1, true), (run.Completed, run.Stopped));
        var scene = await GetAsync<SceneView>(SceneUrl(runId));
        Assert.Equal((ScenePhase.Completed, "stopped", false), (scene.Status.Phase, scene.Status.EndReason, scene.Status.Paused));
    }

    [Fact]
    public async Task Intervene_WhisperWhilePaused_ReachesOnlyThatCharacter()
    {
        const string whisper = "psst, the spare key is under the brass bell";
        var runId = await StartRunAsync(Scenario("whisper", turns: 6));
        await PostAsync<RunView>($"/api/runs/{runId}/pause");
        await WaitForPauseAsync(runId);

        using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/interventions", new { speaker = "User", text = whisper, to = "keeper" }, Cancel);

        await AssertStatusAsync(HttpStatusCode.Accepted, response);
        var turn = (await response.Content.ReadFromJsonAsync<InterventionAccepted>(Json, Cancel))!.Turn;
        await PostAsync<RunView>($"/api/runs/{runId}/resume");
        await WaitForRunWrittenAsync(runId);
        var scene = await GetAsync<SceneView>(SceneUrl(runId));
        var line = Assert.Single(scene.Lines, l => l.Kind == LineKind.Intervention);
        Assert.Equal((turn, "User", whisper, "keeper", (string?)null), (line.Turn, line.Speaker, line.Text, line.To, line.SpeakerId));
        Assert.Equal(ScenePhase.Completed, scene.Status.Phase);

        var keeper = await GetAsync<CharacterContext>(SceneUrl(runId) + "/characters/keeper");
        var visitor = await GetAsync<CharacterContext>(SceneUrl(runId) + "/characters/visitor");
        Assert.Equal(("keeper", "Marta", "the keeper of the lighthouse"), (keeper.Id, keeper.Name, keeper.Role));
        Assert.Contains(line, keeper.Witnessed);
        Assert.Contains(whisper, keeper.Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(visitor.Witnessed, l => l.Text.Contains("brass bell", StringComparison.Ordinal));
        Assert.DoesNotContain("brass bell", visitor.Prompt, StringComparison.Ordinal);

        // Everything else both witnessed alike.
        Assert.Equal(scene.Lines.Where(l => l.To is null), visitor.Witnessed);
        Assert.Equal(scene.Lines, keeper.Witnessed);
    }

    [Fact]
    public async Task Intervene_WhileTurnsPlay_IsSpokenBeforeTheTurnItReturns()
    {
        // Sent while the scene plays, most arrive while a line is being generated: they wait for the next turn.
        var runId = await StartRunAsync(Scenario("live-intervention", turns: 1000));
        var accepted = new List<(string Text, int Turn)>();
        for (var i = 0; i < 8; i++)
        {
            var text = $"Intervention number {i}.";
            using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/interventions", new { speaker = "Narrator", text }, Cancel);
            await AssertStatusAsync(HttpStatusCode.Accepted, response);
            accepted.Add((text, (await response.Content.ReadFromJsonAsync<InterventionAccepted>(Json, Cancel))!.Turn));
            await Task.Delay(TimeSpan.FromMilliseconds(20 * i), Cancel);
        }

        var scene = await WaitForAsync(
            () => GetAsync<SceneView>(SceneUrl(runId)),
            s => s.Lines.Count(l => l.Kind == LineKind.Intervention) == accepted.Count,
            "every intervention to be spoken");
        await PostAsync<RunView>($"/api/runs/{runId}/stop");

        var spoken = scene.Lines.Where(l => l.Kind == LineKind.Intervention).Select(l => (l.Text, l.Turn)).ToList();
        Assert.Equal(accepted, spoken);
        Assert.All(scene.Lines.Where(l => l.Kind == LineKind.Intervention), l => Assert.Equal(("Narrator", null), (l.Speaker, l.To)));
        await WaitForRunWrittenAsync(runId);
    }

    [Fact]
    public async Task Intervene_BackToBackWhileTurnsPlay_EveryOneIsSpokenAndTheSceneNeverFails()
    {
        // The play timer interleaves with requests: each intervention's write lands while turns write their lines. Two
        // writes out at once carry the same ETag, and one used to fail (the scene, or the request).
        var runId = await StartRunAsync(Scenario("busy-intervention", turns: 1000));
        var texts = Enumerable.Range(0, 60).Select(i => $"Back to back {i}.").ToList();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < texts.Count; i = Interlocked.Increment(ref next))
            {
                using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/interventions", new { speaker = "User", text = texts[i], to = i % 2 == 0 ? "keeper" : null }, Cancel);
                await AssertStatusAsync(HttpStatusCode.Accepted, response);
            }
        }));

        var scene = await WaitForAsync(
            () => GetAsync<SceneView>(SceneUrl(runId)),
            s => s.Lines.Count(l => l.Kind == LineKind.Intervention) == texts.Count || s.Status.Phase != ScenePhase.Playing,
            "every intervention to be spoken");
        Assert.Equal(ScenePhase.Playing, scene.Status.Phase);
        await PostAsync<RunView>($"/api/runs/{runId}/stop");
        var run = await WaitForRunWrittenAsync(runId);

        scene = await GetAsync<SceneView>(SceneUrl(runId));
        Assert.Equal(ScenePhase.Completed, scene.Status.Phase);
        Assert.Equal(texts.Order(StringComparer.Ordinal), scene.Lines.Where(l => l.Kind == LineKind.Intervention).Select(l => l.Text).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, scene.Lines.Count), scene.Lines.Select(l => l.Index));
        Assert.NotNull(run.Summary);
    }

    [Fact]
    public async Task Character_OfAStoryThatPlayedOn_IsShownAsItWasInEachScene()
    {
        // The keeper plays the lamp room, then the stairs (after it, by the default rule), bringing the lamp room's lines.
        var yaml = Scenario("two-acts", turns: 2) + """
              - id: stairs
                setting: The spiral stairs below the lamp room.
                present: [keeper]
                max_turns: 2
            """;
        var runId = await StartRunAsync(yaml);
        await WaitForRunWrittenAsync(runId);

        var first = await GetAsync<CharacterContext>(SceneUrl(runId) + "/characters/keeper");
        var later = await GetAsync<CharacterContext>($"/api/runs/{runId}/scenes/stairs/0/characters/keeper");
        var lampRoom = await GetAsync<SceneView>(SceneUrl(runId));
        var stairs = await GetAsync<SceneView>($"/api/runs/{runId}/scenes/stairs/0");

        Assert.Empty(first.Played);
        Assert.Empty(first.Carried.Lines);
        Assert.Equal(lampRoom.Lines, first.Witnessed);
        Assert.Equal([lampRoom.Key], later.Played);
        Assert.Equal(
            ["(Earlier: The lamp room of a lighthouse on a stormy night.)", .. lampRoom.Lines.Select(l => l.Text), "(Now: The spiral stairs below the lamp room.)"],
            later.Carried.Lines.Select(l => l.Text));
        Assert.Equal([.. later.Carried.Lines, .. stairs.Lines], later.Witnessed);
        Assert.Contains(lampRoom.Lines[^1].Text, later.Prompt, StringComparison.Ordinal);
        Assert.Equal((StoryKeys.Main(runId, 0), StoryKeys.Main(runId, 0)), (lampRoom.Lineage.Story, stairs.Lineage.Story));
    }

    [Fact]
    public async Task Intervene_InvalidRequests_Return400AndQueueNothing()
    {
        var runId = await StartRunAsync(Scenario("invalid-intervention", turns: 1000));
        await PostAsync<RunView>($"/api/runs/{runId}/pause");
        await WaitForPauseAsync(runId);
        var url = SceneUrl(runId) + "/interventions";
        object[] requests =
        [
            new { text = "" },
            new { text = "   " },
            new { text = "Hello there.", to = "ghost" },
            new { text = new string('a', 4001) },
            new { speaker = new string('s', 65), text = "Hello there." },
        ];

        foreach (var body in requests)
        {
            using var response = await _http.PostAsJsonAsync(url, body, Cancel);
            (await AssertProblemAsync(HttpStatusCode.BadRequest, response)).Dispose();
        }

        using var longest = await _http.PostAsJsonAsync(url, new { text = new string('a', 4000), to = "visitor" }, Cancel);
        await AssertStatusAsync(HttpStatusCode.Accepted, longest);
        await PostAsync<RunView>($"/api/runs/{runId}/resume");

        // The turn after the resume speaks whatever was queued, then a character's line.
        var scene = await WaitForAsync(
            () => GetAsync<SceneView>(SceneUrl(runId)),
            s => s.Lines.SkipWhile(l => l.Kind != LineKind.Intervention).Any(l => l.Kind == LineKind.Character),
            "the queued intervention and the line after it");
        await PostAsync<RunView>($"/api/runs/{runId}/stop");
        var spoken = Assert.Single(scene.Lines, l => l.Kind == LineKind.Intervention);
        Assert.Equal((4000, "visitor", "User"), (spoken.Text.Length, spoken.To, spoken.Speaker));
        await WaitForRunWrittenAsync(runId);
    }

    [Fact]
    public async Task Intervene_EndedScene_Returns409()
    {
        var runId = await StartRunAsync(Scenario("late-intervention", turns: 1));
        await WaitForRunWrittenAsync(runId);

        using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/interventions", new { text = "Too late?" }, Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.Conflict, response);
        Assert.Contains("ended", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fork_EndedScene_CreatesBranchesThatShareItsLinesAndPlayToTheirEnd()
    {
        var runId = await StartRunAsync(Scenario("fork", turns: 4));
        await WaitForRunWrittenAsync(runId);
        var parent = await GetAsync<SceneView>(SceneUrl(runId));

        using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/forks", new { branches = 2, atTurn = 2 }, Cancel);

        await AssertStatusAsync(HttpStatusCode.Created, response);
        var fork = (await response.Content.ReadFromJsonAsync<SceneForkResult>(Json, Cancel))!;
        Assert.Equal((0, 2, 3), (fork.Fork, fork.AtTurn, fork.SharedLines));
        Assert.Equal([$"{parent.Key}~0.0", $"{parent.Key}~0.1"], fork.BranchKeys);
        Assert.Equal(4, fork.CopiedSequences);
        foreach (var (key, branch) in fork.BranchKeys.Select((k, b) => (k, b)))
        {
            var replica = key.Split('/')[^1];
            var ended = await WaitForAsync(() => GetAsync<SceneView>(SceneUrl(runId, replica)), s => s.Status.Phase != ScenePhase.Playing, $"branch {key} to end");
            Assert.Equal((key, replica, ScenePhase.Completed, 4), (ended.Key, ended.Replica, ended.Status.Phase, ended.Status.Turns));
            Assert.Equal(new SceneOrigin(parent.Key, 0, branch, 2, 3), ended.Lineage.Origin);
            Assert.Equal(parent.Lines.Take(3), ended.Lines.Take(3));
            Assert.Equal([3, 4], ended.Lines.Skip(3).Select(l => l.Index));
            var events = await ReadEventsAsync(SceneUrl(runId, replica) + "/events");
            Assert.Equal(ended.Lines.Select(l => Id(l.Index)), events.Where(e => e.Name == "line").Select(e => e.Id));
        }

        var lineage = (await GetAsync<SceneView>(SceneUrl(runId))).Lineage;
        Assert.Equal(fork.BranchKeys, Assert.Single(lineage.Forks).BranchKeys);
    }

    [Fact]
    public async Task Fork_PlayingScene_Returns409()
    {
        var runId = await StartRunAsync(Scenario("early-fork", turns: 1000));

        using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/forks", new { branches = 1 }, Cancel);

        using var problem = await AssertProblemAsync(HttpStatusCode.Conflict, response);
        Assert.Contains("still playing", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await PostAsync<RunView>($"/api/runs/{runId}/stop");
        await WaitForRunWrittenAsync(runId);
    }

    [Fact]
    public async Task Fork_BranchesOrTurnOutOfRange_Returns400AndForksNothing()
    {
        var runId = await StartRunAsync(Scenario("bad-fork", turns: 2));
        await WaitForRunWrittenAsync(runId);
        object[] requests =
        [
            new { branches = 0 },
            new { branches = 65 },
            new { branches = 1, atTurn = -1 },
            new { branches = 1, atTurn = 3 },
        ];

        foreach (var body in requests)
        {
            using var response = await _http.PostAsJsonAsync(SceneUrl(runId) + "/forks", body, Cancel);
            (await AssertProblemAsync(HttpStatusCode.BadRequest, response)).Dispose();
        }

        Assert.Empty((await GetAsync<SceneView>(SceneUrl(runId))).Lineage.Forks);
    }

    /// <summary>
    /// A short scene on the tiny model: two characters speaking in turn, one narration line, six tokens a line at most.
    /// </summary>
    private static string Scenario(string name, int turns) => $$"""
        name: {{name}}
        sampling: {temperature: 0.8, top_p: 0.95, seed: 7, max_tokens_per_line: 6}
        characters:
          - id: keeper
            name: Marta
            role: the keeper of the lighthouse
            speaking_style: short and plain
          - id: visitor
            name: Ambrose
            role: a traveller caught by the storm
        scenes:
          - id: {{SceneId}}
            setting: The lamp room of a lighthouse on a stormy night.
            present: [keeper, visitor]
            policy: round-robin
            max_turns: {{turns}}
            narration: ["Rain beats on the glass."]

        """;

    private static StringContent Yaml(string yaml) => new(yaml, Encoding.UTF8, "application/yaml");

    private static string SceneUrl(string runId, string replica = "0") => $"/api/runs/{runId}/scenes/{SceneId}/{replica}";

    /// <summary>Run folders of the scenario <paramref name="name"/> under the runs folder.</summary>
    private string[] RunFolders(string name) =>
        Directory.Exists(server.RunsFolder) ? Directory.GetDirectories(server.RunsFolder, name + "-*") : [];

    private static string[] FileNames(string folder) =>
        [.. Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    private async Task<string> StartRunAsync(string yaml, string query = "")
    {
        using var response = await _http.PostAsync("/api/runs" + query, Yaml(yaml), Cancel);
        await AssertStatusAsync(HttpStatusCode.Created, response);
        return (await response.Content.ReadFromJsonAsync<RunStarted>(Json, Cancel))!.RunId;
    }

    private async Task<T> GetAsync<T>(string url)
    {
        using var response = await _http.GetAsync(url, Cancel);
        await AssertStatusAsync(HttpStatusCode.OK, response);
        return (await response.Content.ReadFromJsonAsync<T>(Json, Cancel))!;
    }

    private async Task<T> PostAsync<T>(string url)
    {
        using var response = await _http.PostAsync(url, content: null, Cancel);
        await AssertStatusAsync(HttpStatusCode.OK, response);
        return (await response.Content.ReadFromJsonAsync<T>(Json, Cancel))!;
    }

    /// <summary>The run once every scene has ended and its folder is written (the view then carries the summary).</summary>
    private Task<RunView> WaitForRunWrittenAsync(string runId) =>
        WaitForAsync(() => GetAsync<RunView>($"/api/runs/{runId}"), r => r.Done && r.Summary is not null, $"run {runId} to end and write its folder");

    /// <summary>
    /// Waits until the paused scene's transcript has stopped growing (the turn in flight at the pause may still end) and
    /// returns its line count.
    /// </summary>
    private async Task<int> WaitForPauseAsync(string runId)
    {
        var counts = new List<int>();
        var scene = await WaitForAsync(
            async () =>
            {
                var view = await GetAsync<SceneView>(SceneUrl(runId));
                counts.Add(view.Lines.Count);
                return view;
            },
            s => s.Status.Paused && counts.Count >= 5 && counts[^5..].Distinct().Count() == 1,
            $"the scene of run {runId} to pause");
        return scene.Lines.Count;
    }

    /// <summary>Reads <paramref name="read"/> every 100 ms until <paramref name="done"/>; fails after <see cref="Patience"/>.</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"Waited {Patience.TotalSeconds:N0} s for {what}; last seen: {JsonSerializer.Serialize(value, Json)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
        }
    }

    /// <summary>The scene's event stream read from its start (or after <paramref name="lastEventId"/>) to its end.</summary>
    private async Task<List<ServerEvent>> ReadEventsAsync(string url, string? lastEventId = null)
    {
        await using var stream = await EventStream.OpenAsync(_http, url, lastEventId);
        await stream.ReadToEndAsync();
        return stream.Events;
    }

    private static string Id(int index) => index.ToString(CultureInfo.InvariantCulture);

    private static async Task AssertStatusAsync(HttpStatusCode expected, HttpResponseMessage response)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync(Cancel);
            Assert.Fail($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary>The response's problem+json body, after checking the status.</summary>
    private static async Task<JsonDocument> AssertProblemAsync(HttpStatusCode expected, HttpResponseMessage response)
    {
        await AssertStatusAsync(expected, response);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Equal((int)expected, problem.RootElement.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>One Server-Sent Event: its id (line events only), name and data.</summary>
    private sealed record ServerEvent(string? Id, string Name, string Data);

    /// <summary>
    /// A scene's event stream over one HTTP response, parsed as the Server-Sent Events spec reads it (fields up to a
    /// blank line; comments and <c>retry</c> skipped). Every read fails after <see cref="Patience"/>, naming what
    /// arrived; disposing it disconnects.
    /// </summary>
    private sealed class EventStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;
        private readonly string _url;

        private EventStream(HttpResponseMessage response, StreamReader reader, string url) => (_response, _reader, _url) = (response, reader, url);

        /// <summary>Every event read so far.</summary>
        public List<ServerEvent> Events { get; } = [];

        public static async Task<EventStream> OpenAsync(HttpClient http, string url, string? lastEventId = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
            try
            {
                await AssertStatusAsync(HttpStatusCode.OK, response);
                Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
                return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(Cancel), Encoding.UTF8), url);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        /// <summary>Reads until <paramref name="count"/> line events have arrived in all.</summary>
        public Task ReadLinesAsync(int count) =>
            ReadUntilAsync(() => Events.Count(e => e.Name == "line") >= count, $"{count} lines");

        /// <summary>Reads until the <c>end</c> event.</summary>
        public Task ReadToEndAsync() => ReadUntilAsync(() => Events.Count > 0 && Events[^1].Name == "end", "the end event");

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task ReadUntilAsync(Func<bool> done, string what)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            timeout.CancelAfter(Patience);
            try
            {
                while (!done())
                {
                    var next = await NextAsync(timeout.Token);
                    if (next is null)
                    {
                        Assert.Fail($"{_url} closed before {what}; got: {Received()}");
                    }

                    Events.Add(next);
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !Cancel.IsCancellationRequested)
            {
                Assert.Fail($"No {what} from {_url} within {Patience.TotalSeconds:N0} s; got: {Received()}");
            }
        }

        private string Received() => string.Join(", ", Events.Select(e => e.Id is null ? e.Name : $"{e.Name} {e.Id}"));

        /// <summary>The next event; null when the server closed the stream.</summary>
        private async Task<ServerEvent?> NextAsync(CancellationToken cancellationToken)
        {
            string? id = null;
            string? name = null;
            var data = new StringBuilder();
            while (await _reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0)
                    {
                        return new ServerEvent(id, name ?? "message", data.ToString(0, data.Length - 1));
                    }

                    (id, name) = (null, null);
                    continue;
                }

                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? string.Empty : line[(colon + 1)..];
                value = value.StartsWith(' ') ? value[1..] : value;
                switch (field)
                {
                    case "id":
                        id = value;
                        break;
                    case "event":
                        name = value;
                        break;
                    case "data":
                        data.Append(value).Append('\n');
                        break;
                }
            }

            return null;
        }
    }
}
