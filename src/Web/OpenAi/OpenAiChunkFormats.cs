using System.Text.Json;

namespace AgentTheater.Web.OpenAi;

/// <summary>The server-sent events of one kind of streamed completion, as UTF-8 JSON.</summary>
internal interface IChunkFormat
{
    /// <summary>The event sent before the first text; null when the kind has none.</summary>
    byte[]? Start(string id, long created);

    /// <summary>The next piece of text.</summary>
    byte[] Text(string id, long created, string text);

    /// <summary>The event that ends the choice.</summary>
    byte[] Finish(string id, long created, string finishReason);

    /// <summary>The usage event (no choices), sent when the request asked for it.</summary>
    byte[] Usage(string id, long created, CompletionUsage usage);
}

/// <summary><c>chat.completion.chunk</c> events: the role first, then content deltas, then the finish reason.</summary>
internal sealed class ChatChunkFormat(string model) : IChunkFormat
{
    public byte[]? Start(string id, long created) => Chunk(id, created, [new ChatCompletionChunkChoice(0, new ChatCompletionDelta("assistant", string.Empty), null)]);

    public byte[] Text(string id, long created, string text) => Chunk(id, created, [new ChatCompletionChunkChoice(0, new ChatCompletionDelta(Content: text), null)]);

    public byte[] Finish(string id, long created, string finishReason) => Chunk(id, created, [new ChatCompletionChunkChoice(0, new ChatCompletionDelta(), finishReason)]);

    public byte[] Usage(string id, long created, CompletionUsage usage) => Chunk(id, created, [], usage);

    private byte[] Chunk(string id, long created, IReadOnlyList<ChatCompletionChunkChoice> choices, CompletionUsage? usage = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new ChatCompletionChunk(id, created, model, choices, usage), OpenAiJsonContext.Default.ChatCompletionChunk);
}

/// <summary><c>text_completion</c> events: text pieces, then an empty one with the finish reason.</summary>
internal sealed class TextChunkFormat(string model) : IChunkFormat
{
    public byte[]? Start(string id, long created) => null;

    public byte[] Text(string id, long created, string text) => Chunk(id, created, [new TextCompletionChoice(0, text, null)]);

    public byte[] Finish(string id, long created, string finishReason) => Chunk(id, created, [new TextCompletionChoice(0, string.Empty, finishReason)]);

    public byte[] Usage(string id, long created, CompletionUsage usage) => Chunk(id, created, [], usage);

    private byte[] Chunk(string id, long created, IReadOnlyList<TextCompletionChoice> choices, CompletionUsage? usage = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new TextCompletion(id, created, model, choices, usage), OpenAiJsonContext.Default.TextCompletion);
}
