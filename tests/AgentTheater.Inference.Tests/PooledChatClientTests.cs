using AgentTheater.Inference.Chat;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Inference.Tests;

public sealed class PooledChatClientTests(TinyModelFixture fixture)
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "You are the innkeeper of a small tavern by the sea."),
        new(ChatRole.User, "Hello! Is there a room for the night?"),
        new(ChatRole.Assistant, "Yes, one room is free. It looks at the sea."),
        new(ChatRole.User, "How much for one night, and is there food?"),
    ];

    private static readonly ChatTurn[] ConversationTurns =
    [
        new("system", "You are the innkeeper of a small tavern by the sea."),
        new("user", "Hello! Is there a room for the night?"),
        new("assistant", "Yes, one room is free. It looks at the sea."),
        new("user", "How much for one night, and is there food?"),
    ];

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetResponseAsync_Greedy_EqualsTheConcatenatedStreamingUpdates()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);

        var response = await client.GetResponseAsync(Conversation, Greedy(24), Timeout);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, Greedy(24), Timeout))
        {
            updates.Add(update);
        }

        Assert.NotEmpty(response.Text);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "the text came in one update: nothing was streamed");
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        var streamed = updates.ToChatResponse();
        Assert.Equal(response.Text, streamed.Text);
        Assert.Equal(response.FinishReason, streamed.FinishReason);
        Assert.Equal(response.Usage!.InputTokenCount, streamed.Usage!.InputTokenCount);
        Assert.Equal(response.Usage.OutputTokenCount, streamed.Usage.OutputTokenCount);
        Assert.Equal("tiny-f32.gguf", response.ModelId);
        Assert.Equal("tiny-f32.gguf", streamed.ModelId);
    }

    [Fact]
    public async Task GetResponseAsync_PromptIsTheModelsChatTemplateRendering()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        var rendered = fixture.Model.ApplyChatTemplate(ConversationTurns, addAssistantPrompt: true);
        Assert.NotNull(rendered);
        Assert.Contains("<|im_start|>assistant\n", rendered, StringComparison.Ordinal);

        var response = await client.GetResponseAsync(Conversation, Greedy(16), Timeout);

        var direct = await pool.GenerateAsync(new GenerationRequest { Prompt = rendered, MaxTokens = 16, Sampling = SamplingOptions.Greedy }, Timeout);
        Assert.Equal(direct.Text, response.Text);
        Assert.Equal(fixture.Model.Tokenize(rendered).Length, response.Usage!.InputTokenCount);
        Assert.Equal(rendered, client.RenderPrompt(Conversation));
    }

    [Fact]
    public async Task GetResponseAsync_Instructions_BecomeAFirstSystemMessage()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        var options = Greedy(8);
        options.Instructions = "Answer in one short sentence.";
        var rendered = fixture.Model.ApplyChatTemplate([new("system", options.Instructions), .. ConversationTurns], addAssistantPrompt: true)!;

        var response = await client.GetResponseAsync(Conversation, options, Timeout);

        Assert.Equal(fixture.Model.Tokenize(rendered).Length, response.Usage!.InputTokenCount);
        Assert.StartsWith("<|im_start|>system\nAnswer in one short sentence.<|im_end|>", client.RenderPrompt(Conversation, options), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ChatTemplateOption_OverridesTheModelsTemplate()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool, new PooledChatClientOptions { ChatTemplate = "llama3" });
        var rendered = fixture.Model.ApplyChatTemplate(ConversationTurns, addAssistantPrompt: true, template: "llama3")!;
        Assert.Contains("<|start_header_id|>", rendered, StringComparison.Ordinal);

        var response = await client.GetResponseAsync(Conversation, Greedy(4), Timeout);

        Assert.Equal(fixture.Model.Tokenize(rendered).Length, response.Usage!.InputTokenCount);
    }

    [Fact]
    public void Constructor_UnknownChatTemplate_ThrowsNamingTheOption()
    {
        using var pool = fixture.CreatePool();

        var error = Assert.Throws<ArgumentException>(() => new PooledChatClient(pool, new PooledChatClientOptions { ChatTemplate = "no-such-template" }));

        Assert.Contains("no-such-template", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatTemplate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_MaxOutputTokens_FinishesWithLengthAndExactlyThatManyTokens()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);

        var response = await client.GetResponseAsync(Conversation, Greedy(5), Timeout);
        var longer = await client.GetResponseAsync(Conversation, Greedy(12), Timeout);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, response.Usage!.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + 5, response.Usage.TotalTokenCount);
        Assert.Equal(12, longer.Usage!.OutputTokenCount);
        Assert.StartsWith(response.Text, longer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_StopSequence_FinishesWithStopBeforeIt()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        var free = await client.GetResponseAsync(Conversation, Greedy(24), Timeout);
        Assert.True(free.Text.Length > 4, $"generated '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var options = Greedy(24);
        options.StopSequences = [stop];

        var response = await client.GetResponseAsync(Conversation, options, Timeout);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], response.Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponseAsync_SameSession_SecondTurnPrefillsOnlyWhatItAdds(bool viaAdditionalProperty)
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        var session = $"innkeeper-{Guid.NewGuid():N}";
        ChatOptions OnSession(string key)
        {
            var options = Greedy(12);
            if (viaAdditionalProperty)
            {
                options.AdditionalProperties = new() { [PooledChatClient.SessionProperty] = key };
            }
            else
            {
                options.ConversationId = key;
            }

            return options;
        }

        List<ChatMessage> history = [.. Conversation];
        var first = await client.GetResponseAsync(history, OnSession(session), Timeout);
        history.AddMessages(first);
        history.Add(new ChatMessage(ChatRole.User, "Thank you. Where is the room?"));
        var prefillBefore = pool.Statistics.PrefillTokens;

        var second = await client.GetResponseAsync(history, OnSession(session), Timeout);

        var prefilled = pool.Statistics.PrefillTokens - prefillBefore;
        var cold = await client.GetResponseAsync(history, OnSession($"cold-{Guid.NewGuid():N}"), Timeout);
        Assert.Equal(cold.Text, second.Text);
        Assert.True(second.Usage!.CachedInputTokenCount >= first.Usage!.InputTokenCount - 1, $"reused {second.Usage.CachedInputTokenCount} of the first prompt's {first.Usage.InputTokenCount}");
        Assert.Equal(second.Usage.InputTokenCount - second.Usage.CachedInputTokenCount, prefilled);
        Assert.True(prefilled < second.Usage.InputTokenCount / 2, $"prefilled {prefilled} of {second.Usage.InputTokenCount}");
        Assert.Equal(0, cold.Usage!.CachedInputTokenCount);
        Assert.Null(second.ConversationId);
    }

    [Fact]
    public async Task GetResponseAsync_SamplingOptions_ReachThePool()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        var rendered = client.RenderPrompt(Conversation);
        var sampled = new ChatOptions { Temperature = 1.5f, TopK = 0, TopP = 1, Seed = 42, MaxOutputTokens = 48 };
        var topK = new ChatOptions { Temperature = 2f, TopK = 1, TopP = 1, MaxOutputTokens = 48 };
        var penalised = Greedy(48);
        penalised.FrequencyPenalty = 1.5f;
        penalised.PresencePenalty = 2f;

        var seeded = await client.GetResponseAsync(Conversation, sampled, Timeout);
        var greedy = await client.GetResponseAsync(Conversation, Greedy(48), Timeout);
        var onlyTop = await client.GetResponseAsync(Conversation, topK, Timeout);
        var penalty = await client.GetResponseAsync(Conversation, penalised, Timeout);

        async Task<string> Direct(SamplingOptions sampling) =>
            (await pool.GenerateAsync(new GenerationRequest { Prompt = rendered, MaxTokens = 48, Sampling = sampling }, Timeout)).Text;
        Assert.Equal(await Direct(new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, Seed = 42 }), seeded.Text);
        Assert.NotEqual(greedy.Text, seeded.Text);
        Assert.Equal(greedy.Text, onlyTop.Text);
        Assert.Equal(await Direct(SamplingOptions.Greedy with { FrequencyPenalty = 1.5f, PresencePenalty = 2f }), penalty.Text);
        Assert.NotEqual(greedy.Text, penalty.Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConsumerStopsEarly_CancelsTheGeneration()
    {
        using var pool = fixture.CreatePool(sequences: 1, contextLength: 1024, batch: 64);
        using var client = new PooledChatClient(pool);

        var received = 0;
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, Greedy(900), Timeout))
        {
            if (++received == 2)
            {
                break;
            }
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (pool.Statistics.InFlight > 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10, Timeout);
        }

        Assert.Equal(0, pool.Statistics.InFlight);
        Assert.Equal(1, pool.Statistics.Cancelled);
        Assert.True(pool.Statistics.GeneratedTokens < 900, $"generated {pool.Statistics.GeneratedTokens} tokens for nobody");
    }

    [Fact]
    public async Task CompleteAsync_Prompt_IsContinuedAsItIsWithoutTheChatTemplate()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        const string Prompt = "The innkeeper wiped the counter and said";

        var response = await client.CompleteAsync(Prompt, Greedy(16), Timeout);
        var streamed = new List<ChatResponseUpdate>();
        await foreach (var update in client.CompleteStreamingAsync(Prompt, Greedy(16), Timeout))
        {
            streamed.Add(update);
        }

        var direct = await pool.GenerateAsync(new GenerationRequest { Prompt = Prompt, MaxTokens = 16, Sampling = SamplingOptions.Greedy }, Timeout);
        Assert.NotEmpty(response.Text);
        Assert.Equal(direct.Text, response.Text);
        Assert.Equal(direct.Text, string.Concat(streamed.Select(u => u.Text)));
        Assert.Equal(fixture.Model.Tokenize(Prompt).Length, response.Usage!.InputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount, streamed.ToChatResponse().Usage!.InputTokenCount);
        Assert.Equal("tiny-f32.gguf", response.ModelId);
    }

    [Fact]
    public async Task CompleteAsync_Options_MapAsForAChat()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        const string Prompt = "The innkeeper wiped the counter and said";
        var session = new ChatOptions { Temperature = 0, MaxOutputTokens = 5, ConversationId = $"inn-{Guid.NewGuid():N}" };

        var limited = await client.CompleteAsync(Prompt, session, Timeout);
        var again = await client.CompleteAsync(Prompt + limited.Text, session, Timeout);
        var free = await client.CompleteAsync(Prompt, Greedy(24), Timeout);
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var stopOptions = Greedy(24);
        stopOptions.StopSequences = [stop];
        var stopped = await client.CompleteAsync(Prompt, stopOptions, Timeout);

        Assert.Equal(ChatFinishReason.Length, limited.FinishReason);
        Assert.Equal(5, limited.Usage!.OutputTokenCount);
        Assert.True(again.Usage!.CachedInputTokenCount >= limited.Usage.InputTokenCount - 1, $"reused {again.Usage.CachedInputTokenCount} of {limited.Usage.InputTokenCount}");
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CompleteAsync(Prompt, new ChatOptions { Seed = -1 }, Timeout));
    }

    [Fact]
    public async Task ModelWithoutAChatTemplate_RefusesChatsButCompletesText()
    {
        using var project = LlamaModel.Load(ProjectModelTests.ModelPath);
        using var pool = new InferencePool(project, new InferencePoolOptions { ModelPath = ProjectModelTests.ModelPath, MaxSequences = 1, SequenceContextLength = 256 });
        using var client = new PooledChatClient(pool);
        const string Prompt = "Marta: Welcome to the inn.\nBrom:";

        var chat = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync(Conversation, Greedy(4), Timeout));
        Assert.Throws<NotSupportedException>(() => client.GetStreamingResponseAsync(Conversation, Greedy(4), Timeout));
        var completion = await client.CompleteAsync(Prompt, Greedy(4), Timeout);

        Assert.Contains("ChatTemplate", chat.Message, StringComparison.Ordinal);
        Assert.Contains(ProjectModelTests.ModelPath, chat.Message, StringComparison.Ordinal);
        Assert.Equal(project.Tokenize(Prompt).Length, completion.Usage!.InputTokenCount);
        Assert.InRange(completion.Usage.OutputTokenCount ?? 0, 1, 4);
    }

    [Fact]
    public async Task GetResponseAsync_NonTextContent_ThrowsArgumentExceptionNamingTheContentType()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        ChatMessage[] withImage = [new(ChatRole.User, [new TextContent("What is this?"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")])];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(withImage, Greedy(4), Timeout));
        var streaming = Assert.Throws<ArgumentException>(() => client.GetStreamingResponseAsync(withImage, Greedy(4), Timeout));

        Assert.Contains("DataContent (image/png)", error.Message, StringComparison.Ordinal);
        Assert.Equal("messages", error.ParamName);
        Assert.Equal(error.Message, streaming.Message);
        Assert.Equal(0, pool.Statistics.Queued);
    }

    [Fact]
    public async Task GetResponseAsync_ToolRole_ThrowsArgumentExceptionNamingTheRole()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);
        ChatMessage[] withTool = [.. Conversation, new(ChatRole.Tool, "42")];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(withTool, Greedy(4), Timeout));

        Assert.Contains("role 'tool'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_InvalidOptions_ThrowBeforeReachingThePool()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);

        var seed = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { Seed = -1 }, Timeout));
        var maxTokens = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 0 }, Timeout));
        var temperature = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { Temperature = -1 }, Timeout));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync(Conversation, new ChatOptions { ToolMode = ChatToolMode.RequireAny }, Timeout));

        Assert.Contains("ChatOptions.Seed", seed.Message, StringComparison.Ordinal);
        Assert.Contains("ChatOptions.MaxOutputTokens", maxTokens.Message, StringComparison.Ordinal);
        Assert.Equal("Sampling.Temperature", temperature.ParamName);
        Assert.Equal(0, pool.Statistics.Queued);
    }

    [Fact]
    public void GetService_ReturnsMetadataPoolModelAndItself()
    {
        using var pool = fixture.CreatePool();
        using var client = new PooledChatClient(pool);

        var metadata = client.GetService<ChatClientMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("llama.cpp", metadata.ProviderName);
        Assert.Equal("tiny-f32.gguf", metadata.DefaultModelId);
        Assert.Same(client, client.GetService<IChatClient>());
        Assert.Same(client, client.GetService<PooledChatClient>());
        Assert.Same(pool, client.GetService<InferencePool>());
        Assert.Same(fixture.Model, client.GetService<LlamaModel>());
        Assert.Null(client.GetService<IChatClient>("some key"));
        Assert.Null(client.GetService<string>());
    }

    [Fact]
    public async Task Dispose_LeavesThePoolServing()
    {
        using var pool = fixture.CreatePool();
        var client = new PooledChatClient(pool, new PooledChatClientOptions { ModelId = "innkeeper" });

        client.Dispose();

        var result = await pool.GenerateAsync(new GenerationRequest { Prompt = "The innkeeper said", MaxTokens = 3, Sampling = SamplingOptions.Greedy }, Timeout);
        Assert.Equal(3, result.Tokens.Count);
        Assert.Equal("innkeeper", client.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Theory]
    [InlineData(LogLevel.Debug, false)]
    [InlineData(LogLevel.Trace, true)]
    public async Task GetResponseAsync_Logging_WritesPromptAndResponseTextOnlyAtTrace(LogLevel minimum, bool textExpected)
    {
        using var pool = fixture.CreatePool();
        var logs = new RecordingLoggerFactory(minimum);
        using var client = new PooledChatClient(pool, loggerFactory: logs);

        var response = await client.GetResponseAsync(Conversation, Greedy(6), Timeout);

        var debug = Assert.Single(logs.Entries, e => e.Level == LogLevel.Debug);
        Assert.Contains("6 output tokens", debug.Message, StringComparison.Ordinal);
        var containsText = logs.Entries.Any(e => e.Message.Contains(Conversation[1].Text, StringComparison.Ordinal))
            && logs.Entries.Any(e => e.Message.Contains(response.Text, StringComparison.Ordinal) && e.Level == LogLevel.Trace);
        Assert.Equal(textExpected, containsText);
        Assert.Equal(textExpected, logs.Entries.Any(e => e.Level == LogLevel.Trace));
    }

    private static ChatOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokens = maxTokens };
}

/// <summary>Records formatted log entries at or above a level: the logging boundary, faked by hand.</summary>
internal sealed class RecordingLoggerFactory(LogLevel minimum) : ILoggerFactory, ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }

    public void Dispose()
    {
    }
}
