#pragma warning disable OPENAI001 // ChatCompletionOptions.Seed is marked experimental in the OpenAI client.

using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Hosting;
using AgentTheater.Inference.Native;
using OpenAI;
using OpenAI.Chat;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Web.Tests;

public sealed class OpenAiEndpointTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>, IDisposable
{
    private const string ModelId = "tiny-f32.gguf";
    private const string Prompt = "The innkeeper wiped the counter and said";

    private static readonly ChatMessage[] Conversation =
    [
        new SystemChatMessage("You are the innkeeper of a small tavern by the sea."),
        new UserChatMessage("Hello! Is there a room for the night?"),
        new AssistantChatMessage("Yes, one room is free. It looks at the sea."),
        new UserChatMessage("How much for one night, and is there food?"),
    ];

    private static readonly ChatTurn[] ConversationTurns =
    [
        new("system", "You are the innkeeper of a small tavern by the sea."),
        new("user", "Hello! Is there a room for the night?"),
        new("assistant", "Yes, one room is free. It looks at the sea."),
        new("user", "How much for one night, and is there food?"),
    ];

    private readonly HttpClient _http = new() { BaseAddress = new Uri(fixture.BaseUrl) };

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private OpenAIClientOptions ClientOptions => new() { Endpoint = new Uri(fixture.BaseUrl + "/v1") };

    private ChatClient Chat => new(ModelId, new ApiKeyCredential("unused"), ClientOptions);

    [Fact]
    public async Task ChatCompletion_OfficialClient_ReturnsTextFinishReasonAndThePoolsUsage()
    {
        var promptTokensBefore = fixture.Pool.Statistics.PromptTokens;

        ChatCompletion completion = await Chat.CompleteChatAsync(Conversation, Greedy(16), Timeout);

        var expectedPromptTokens = fixture.Pool.Model.TokenizeChat(ConversationTurns, addAssistantPrompt: true)!.Length;
        Assert.NotEmpty(completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.Equal(expectedPromptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(expectedPromptTokens, fixture.Pool.Statistics.PromptTokens - promptTokensBefore);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 16);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.Equal(ModelId, completion.Model);
        Assert.False(string.IsNullOrEmpty(completion.Id));
    }

    [Fact]
    public async Task ChatCompletion_Streaming_ChunksConcatenateToTheNonStreamingText()
    {
        var options = new ChatCompletionOptions { Temperature = 0.9f, Seed = 11, MaxOutputTokenCount = 24 };
        ChatCompletion whole = await Chat.CompleteChatAsync(Conversation, options, Timeout);

        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in Chat.CompleteChatStreamingAsync(Conversation, options, Timeout))
        {
            updates.Add(update);
        }

        Assert.Equal(whole.Content[0].Text, string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text)));
        Assert.True(updates.Count(u => u.ContentUpdate.Count > 0 && u.ContentUpdate[0].Text.Length > 0) > 1, "the text came in one chunk: nothing was streamed");
        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
        Assert.Equal(whole.FinishReason, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        var usage = Assert.Single(updates, u => u.Usage is not null).Usage;
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task ChatCompletion_MaxTokens_LimitsTheOutputAndFinishesWithLength()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync(Conversation, Greedy(3), Timeout);
        using var legacy = await PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hello there"}],"max_tokens":4,"temperature":0}""");
        var body = await JsonOf(legacy);

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal("length", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.Equal(4, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task ChatCompletion_StopSequence_EndsBeforeItWithStop()
    {
        ChatCompletion free = await Chat.CompleteChatAsync(Conversation, Greedy(24), Timeout);
        var text = free.Content[0].Text;
        Assert.True(text.Length > 4, $"generated '{text}'");
        var stop = text.Substring(text.Length / 2, 2);
        var options = Greedy(24);
        options.StopSequences.Add(stop);

        ChatCompletion stopped = await Chat.CompleteChatAsync(Conversation, options, Timeout);

        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Content[0].Text);
    }

    [Fact]
    public async Task Models_OfficialClient_ListsAndDescribesThePoolsModel()
    {
        var models = new OpenAIClient(new ApiKeyCredential("unused"), ClientOptions).GetOpenAIModelClient();

        var list = (await models.GetModelsAsync(Timeout)).Value;
        var one = (await models.GetModelAsync(ModelId, Timeout)).Value;
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("gpt-4o", Timeout));

        var model = Assert.Single(list);
        Assert.Equal(ModelId, model.Id);
        Assert.Equal("agent-theater", model.OwnedBy);
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(fixture.ModelPath)).ToUnixTimeSeconds(), model.CreatedAt.ToUnixTimeSeconds());
        Assert.Equal(ModelId, one.Id);
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task Completions_NonStreaming_ContinuesThePromptAsItIs()
    {
        using var response = await PostAsync("/v1/completions", $$"""{"model":"any","prompt":"{{Prompt}}","max_tokens":12,"temperature":0}""");
        var body = await JsonOf(response);

        var direct = await fixture.Pool.GenerateAsync(new GenerationRequest { Prompt = Prompt, MaxTokens = 12, Sampling = SamplingOptions.Greedy }, Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text_completion", (string?)body["object"]);
        Assert.Equal("any", (string?)body["model"]);
        Assert.Equal(direct.Text, (string?)body["choices"]![0]!["text"]);
        Assert.Equal(direct.FinishReason == FinishReason.MaxTokens ? "length" : "stop", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.Equal(fixture.Pool.Model.Tokenize(Prompt).Length, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(direct.Tokens.Count, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Completions_Streaming_SendsTextEventsThenUsageThenDone()
    {
        using var whole = await PostAsync("/v1/completions", $$"""{"prompt":["{{Prompt}}"],"max_tokens":16,"temperature":0}""");
        var expected = (string?)(await JsonOf(whole))["choices"]![0]!["text"];

        using var response = await PostAsync("/v1/completions", $$$"""{"prompt":"{{{Prompt}}}","max_tokens":16,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        var events = await EventsOf(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", (string?)c["object"]));
        Assert.True(chunks.Count(c => ((string?)c["choices"]!.AsArray().FirstOrDefault()?["text"])?.Length > 0) > 1, "the text came in one event");
        Assert.Equal(expected, string.Concat(chunks.Select(c => (string?)c["choices"]!.AsArray().FirstOrDefault()?["text"])));
        var finish = Assert.Single(chunks, c => c["choices"]!.AsArray().FirstOrDefault()?["finish_reason"] is not null);
        Assert.Equal("length", (string?)finish["choices"]![0]!["finish_reason"]);
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(16, (int)usage["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task ChatCompletion_SameUserTwice_SecondPrefillsOnlyWhatItAdds()
    {
        var user = $"guest-{Guid.NewGuid():N}";
        var options = Greedy(12);
        options.EndUserId = user;
        ChatCompletion first = await Chat.CompleteChatAsync(Conversation, options, Timeout);
        ChatMessage[] longer = [.. Conversation, new AssistantChatMessage(first.Content[0].Text), new UserChatMessage("Thank you. Where is the room?")];
        var prefillBefore = fixture.Pool.Statistics.PrefillTokens;

        ChatCompletion second = await Chat.CompleteChatAsync(longer, options, Timeout);

        var prefilled = fixture.Pool.Statistics.PrefillTokens - prefillBefore;
        Assert.True(prefilled < second.Usage.InputTokenCount / 2, $"prefilled {prefilled} of {second.Usage.InputTokenCount}");
        Assert.Equal(second.Usage.InputTokenCount - prefilled, second.Usage.InputTokenDetails.CachedTokenCount);
        Assert.True(fixture.Pool.CachedTokens("openai:" + user) >= second.Usage.InputTokenCount, "the session's key is not the prefixed user");
        Assert.Equal(-1, fixture.Pool.CachedTokens(user));
    }

    [Fact]
    public async Task ChatCompletion_SessionHeader_WinsOverUser()
    {
        var session = $"scene-{Guid.NewGuid():N}";
        const string Body = """{"messages":[{"role":"system","content":"You are the innkeeper of a small tavern by the sea."},{"role":"user","content":[{"type":"text","text":"Hello! "},{"type":"text","text":"Is there a room?"}]}],"max_tokens":4,"temperature":0,"user":"USER"}""";

        using var first = await PostAsync("/v1/chat/completions", Body.Replace("USER", "anna", StringComparison.Ordinal), session);
        using var second = await PostAsync("/v1/chat/completions", Body.Replace("USER", "bert", StringComparison.Ordinal), session);
        var usage = (await JsonOf(second))["usage"]!;

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True((int)usage["prompt_tokens_details"]!["cached_tokens"]! >= (int)usage["prompt_tokens"]! - 1, usage.ToJsonString());
        Assert.True(fixture.Pool.CachedTokens("openai:" + session) > 0);
        Assert.Equal(-1, fixture.Pool.CachedTokens("openai:anna"));
        Assert.Equal(-1, fixture.Pool.CachedTokens("openai:bert"));
    }

    [Theory]
    [InlineData("""{"model":"x"}""", "messages")]
    [InlineData("""{"messages":[]}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"n":2}""", "n")]
    [InlineData("""{"messages":[{"role":"tool","content":"42"}]}""", "messages[0].role")]
    [InlineData("""{"messages":[{"role":"user"}]}""", "messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"temperature":2.5}""", "temperature")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"top_p":1.5}""", "top_p")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":"many"}""", "max_tokens")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"seed":-1}""", "seed")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stop":[3]}""", "stop")]
    [InlineData("""{"messages":[{"role":"user","content":7}]}""", "messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}""", "messages[0].content[0].text")]
    public async Task ChatCompletion_InvalidRequest_Returns400NamingTheField(string body, string param)
    {
        var queuedBefore = fixture.Pool.Statistics.Queued;

        using var response = await PostAsync("/v1/chat/completions", body);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(queuedBefore, fixture.Pool.Statistics.Queued);
    }

    [Theory]
    [InlineData("""{"max_tokens":4}""", "prompt")]
    [InlineData("""{"prompt":["one","two"]}""", "prompt")]
    [InlineData("""{"prompt":[1,2,3]}""", "prompt")]
    [InlineData("""{"prompt":"hi","n":3}""", "n")]
    public async Task Completions_InvalidRequest_Returns400NamingTheField(string body, string param)
    {
        using var response = await PostAsync("/v1/completions", body);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Fact]
    public async Task ChatCompletion_MalformedJson_Returns400SayingSo()
    {
        using var response = await PostAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}""");
        using var empty = await PostAsync("/v1/chat/completions", string.Empty);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Contains("JSON", (string?)error["message"], StringComparison.Ordinal);
        await ErrorOf(empty, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ChatCompletion_OfficialClientWithTwoChoices_SeesA400()
    {
        var request = BinaryContent.Create(BinaryData.FromString("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"n":2}"""));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync(request, new System.ClientModel.Primitives.RequestOptions { CancellationToken = Timeout }));

        Assert.Equal(400, error.Status);
        Assert.Contains("'n'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletion_ClientDisconnects_CancelsTheGeneration()
    {
        var cancelledBefore = fixture.Pool.Statistics.Cancelled;
        var generatedBefore = fixture.Pool.Statistics.GeneratedTokens;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Tell me a long story."}],"max_tokens":4000,"temperature":0,"stream":true}""", Encoding.UTF8, "application/json"),
        };

        // A handler that drains an unread response to reuse the connection would read the whole stream instead of
        // hanging up: this one closes the connection when the response is disposed.
        using var hangingUp = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = _http.BaseAddress };
        using (var response = await hangingUp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Timeout))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Timeout));
            Assert.StartsWith("data: ", await reader.ReadLineAsync(Timeout), StringComparison.Ordinal);
        }

        var waited = Stopwatch.StartNew();
        while (fixture.Pool.Statistics.InFlight > 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10, Timeout);
        }

        var generated = fixture.Pool.Statistics.GeneratedTokens - generatedBefore;
        Assert.Equal(0, fixture.Pool.Statistics.InFlight);
        Assert.True(generated < 4000, $"the generation ran to its end ({generated} tokens) for nobody");
        Assert.True(cancelledBefore + 1 == fixture.Pool.Statistics.Cancelled, $"cancelled {fixture.Pool.Statistics.Cancelled - cancelledBefore} requests after {generated} tokens in {waited.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task NoPool_EveryEndpointAnswers503SayingThisSiloHostsNoModel()
    {
        await using var app = await OpenAiServerFixture.StartAsync(_ => { });
        using var http = new HttpClient { BaseAddress = new Uri(OpenAiServerFixture.Address(app)) };

        using var models = await http.GetAsync("/v1/models", Timeout);
        using var chat = await http.PostAsync("/v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"), Timeout);
        using var completion = await http.PostAsync("/v1/completions", new StringContent("""{"prompt":"hi"}""", Encoding.UTF8, "application/json"), Timeout);

        foreach (var response in new[] { models, chat, completion })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await JsonOf(response);
            Assert.Equal(503, (int)problem["status"]!);
            Assert.Contains("hosts no model", (string?)problem["detail"], StringComparison.Ordinal);
            Assert.Contains("hosts no model", (string?)problem["error"]!["message"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ModelWithoutAChatTemplate_ChatIsRefusedWhileCompletionsWork()
    {
        await using var app = await OpenAiServerFixture.StartAsync(services => services.AddInferencePool(o =>
        {
            o.ModelPath = RepositoryFiles.ProjectModel;
            o.MaxSequences = 1;
            o.SequenceContextLength = 256;
            o.Threads = 1;
        }));
        using var http = new HttpClient { BaseAddress = new Uri(OpenAiServerFixture.Address(app)) };

        using var chat = await http.PostAsync("/v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"), Timeout);
        using var completion = await http.PostAsync("/v1/completions", new StringContent("""{"prompt":"Marta: Welcome to the inn.\nBrom:","max_tokens":2,"temperature":0}""", Encoding.UTF8, "application/json"), Timeout);

        var error = await ErrorOf(chat, HttpStatusCode.BadRequest);
        Assert.Contains("no chat template", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal("agent-theater-small.gguf", (string?)(await JsonOf(completion))["model"]);
    }

    [Fact]
    public async Task OpenApiDocument_ListsTheEndpointsUnderTheOpenAiTag()
    {
        await using var app = await OpenAiServerFixture.StartAsync(services => services.AddOpenApi(), app => app.MapOpenApi());
        using var http = new HttpClient { BaseAddress = new Uri(OpenAiServerFixture.Address(app)) };

        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json", Timeout))!;

        var paths = document["paths"]!.AsObject();
        foreach (var (path, method) in new[] { ("/v1/models", "get"), ("/v1/models/{model}", "get"), ("/v1/chat/completions", "post"), ("/v1/completions", "post") })
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method} {path} is not in the document");
            Assert.Equal("OpenAI", (string?)operation["tags"]![0]);
            Assert.False(string.IsNullOrEmpty((string?)operation["summary"]), $"{method} {path} has no summary");
        }

        Assert.NotNull(paths["/v1/chat/completions"]!["post"]!["requestBody"]!["content"]!["application/json"]);
    }

    public void Dispose() => _http.Dispose();

    private static ChatCompletionOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokenCount = maxTokens };

    private async Task<HttpResponseMessage> PostAsync(string path, string json, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (session is not null)
        {
            request.Headers.Add("X-Session-Id", session);
        }

        return await _http.SendAsync(request, Timeout);
    }

    private static async Task<JsonNode> JsonOf(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(Timeout)) ?? throw new InvalidOperationException("The body is JSON null.");

    /// <summary>The <c>error</c> of an OpenAI error response, after checking its status and shape.</summary>
    private static async Task<JsonNode> ErrorOf(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Timeout);
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonNode.Parse(body)!["error"]!.AsObject();
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.True(error.ContainsKey("param") && error.ContainsKey("code"), body);
        return error;
    }

    /// <summary>The data of each server-sent event, in order.</summary>
    private static async Task<List<string>> EventsOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Timeout);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : throw new InvalidDataException($"Not a data event: '{e}'"))];
    }
}
