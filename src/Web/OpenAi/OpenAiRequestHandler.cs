using System.Text.Json;
using AgentTheater.Inference.Chat;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Native;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Web.OpenAi;

/// <summary>Answers the OpenAI endpoint's requests with the pooled model, on a process that hosts one.</summary>
internal sealed partial class OpenAiRequestHandler(IServiceProvider services, ILogger<OpenAiRequestHandler> logger)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly bool _hostsModel = services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(InferencePool));

    /// <summary>The client over the pool (created, with the pool, on first use); null when this process hosts no model.</summary>
    private PooledChatClient? Client => _hostsModel ? services.GetRequiredService<PooledChatClient>() : null;

    public IResult ListModels() =>
        Client is { } client ? TypedResults.Json(new ModelList([Card(client)]), OpenAiJsonContext.Default.ModelList) : NoModel();

    public IResult GetModel(string model) =>
        Client is not { } client ? NoModel()
        : model == client.ModelId ? TypedResults.Json(Card(client), OpenAiJsonContext.Default.ModelCard)
        : Error(StatusCodes.Status404NotFound, new OpenAiError($"The model '{model}' does not exist: this endpoint serves '{client.ModelId}'.", OpenAiError.InvalidRequest, "model", "model_not_found"));

    public async Task<IResult> ChatAsync(HttpContext context)
    {
        if (Client is not { } client)
        {
            return NoModel();
        }

        var aborted = context.RequestAborted;
        try
        {
            var request = await OpenAiRequests.ReadAsync(context.Request.Body, OpenAiJsonContext.Default.ChatCompletionRequest, aborted);
            var messages = OpenAiRequests.Messages(request);
            var options = OpenAiRequests.Options(request, OpenAiRequests.Session(context.Request.Headers[OpenAiRequests.SessionHeader], request));
            var model = request.Model ?? client.ModelId;
            if (request.Stream == true)
            {
                return await StreamAsync(context, client.GetStreamingResponseAsync(messages, options, aborted), new ChatChunkFormat(model), request.StreamOptions?.IncludeUsage == true);
            }

            var response = await client.GetResponseAsync(messages, options, aborted);
            var choice = new ChatCompletionChoice(0, new ChatCompletionMessage("assistant", response.Text), FinishReason(response.FinishReason));
            return TypedResults.Json(new ChatCompletion(IdOf(response.ResponseId), Unix(response.CreatedAt), model, [choice], Usage(response.Usage)), OpenAiJsonContext.Default.ChatCompletion);
        }
        catch (Exception error) when (Refusal(error, "messages", aborted) is { } refusal)
        {
            return refusal;
        }
    }

    public async Task<IResult> CompleteAsync(HttpContext context)
    {
        if (Client is not { } client)
        {
            return NoModel();
        }

        var aborted = context.RequestAborted;
        try
        {
            var request = await OpenAiRequests.ReadAsync(context.Request.Body, OpenAiJsonContext.Default.CompletionRequest, aborted);
            var prompt = OpenAiRequests.Prompt(request);
            var options = OpenAiRequests.Options(request, OpenAiRequests.Session(context.Request.Headers[OpenAiRequests.SessionHeader], request));
            var model = request.Model ?? client.ModelId;
            if (request.Stream == true)
            {
                return await StreamAsync(context, client.CompleteStreamingAsync(prompt, options, aborted), new TextChunkFormat(model), request.StreamOptions?.IncludeUsage == true);
            }

            var response = await client.CompleteAsync(prompt, options, aborted);
            var choice = new TextCompletionChoice(0, response.Text, FinishReason(response.FinishReason));
            return TypedResults.Json(new TextCompletion(IdOf(response.ResponseId), Unix(response.CreatedAt), model, [choice], Usage(response.Usage)), OpenAiJsonContext.Default.TextCompletion);
        }
        catch (Exception error) when (Refusal(error, "prompt", aborted) is { } refusal)
        {
            return refusal;
        }
    }

    /// <summary>Sends <paramref name="updates"/> as server-sent events in <paramref name="format"/>, then <c>[DONE]</c>.</summary>
    private async Task<IResult> StreamAsync(HttpContext context, IAsyncEnumerable<ChatResponseUpdate> updates, IChunkFormat format, bool includeUsage)
    {
        var aborted = context.RequestAborted;
        await using var enumerator = updates.GetAsyncEnumerator(aborted);

        // The first piece comes before the headers, so a full queue or a prompt too long for the context still answers
        // with its status code instead of a stream that breaks off.
        var more = await enumerator.MoveNextAsync();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            var first = more ? enumerator.Current : null;
            var id = IdOf(first?.ResponseId);
            var created = Unix(first?.CreatedAt);
            var finishReason = "stop";
            UsageDetails? usage = null;
            if (more && format.Start(id, created) is { } start)
            {
                await WriteEventAsync(response, start, aborted);
            }

            for (; more; more = await enumerator.MoveNextAsync())
            {
                var update = enumerator.Current;
                if (update.Text.Length > 0)
                {
                    await WriteEventAsync(response, format.Text(id, created, update.Text), aborted);
                }

                finishReason = update.FinishReason is { } reason ? FinishReason(reason) : finishReason;
                usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            }

            await WriteEventAsync(response, format.Finish(id, created, finishReason), aborted);
            if (includeUsage)
            {
                await WriteEventAsync(response, format.Usage(id, created, Usage(usage)), aborted);
            }

            await response.Body.WriteAsync(Done, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: the enumeration's cancellation has already stopped the generation.
        }
        catch (Exception error) when (error is InferenceException or InferencePoolBusyException)
        {
            // Headers are out: all that is left is to say so in the stream and end it without [DONE].
            LogStreamFailed(logger, error);
            await WriteEventAsync(response, JsonSerializer.SerializeToUtf8Bytes(new OpenAiErrorResponse(new OpenAiError(error.Message, OpenAiError.Server, null, null)), OpenAiJsonContext.Default.OpenAiErrorResponse), aborted);
        }

        return TypedResults.Empty;
    }

    /// <summary>The answer to a request that failed before its response started; null for failures that are bugs, left to the host.</summary>
    private IResult? Refusal(Exception error, string promptParam, CancellationToken aborted)
    {
        switch (error)
        {
            case OperationCanceledException when aborted.IsCancellationRequested:
                // Nobody is listening; the generation was cancelled with the request.
                return TypedResults.Empty;
            case OpenAiRequestException refused:
                LogRefused(logger, refused.Param, refused.Message);
                return Error(StatusCodes.Status400BadRequest, new OpenAiError(refused.Message, OpenAiError.InvalidRequest, refused.Param, null));
            case PromptTooLongException tooLong:
                LogRefused(logger, promptParam, tooLong.Message);
                return Error(StatusCodes.Status400BadRequest, new OpenAiError(tooLong.Message, OpenAiError.InvalidRequest, promptParam, "context_length_exceeded"));
            case ArgumentException or NotSupportedException:
                // What the request checks let through and the client still refused (a setting of its own, say).
                LogRefused(logger, null, error.Message);
                return Error(StatusCodes.Status400BadRequest, new OpenAiError(error.Message, OpenAiError.InvalidRequest, null, null));
            case InferencePoolBusyException busy:
                LogPoolBusy(logger, busy.Capacity);
                return Error(StatusCodes.Status503ServiceUnavailable, new OpenAiError(busy.Message, OpenAiError.Server, null, null));
            case InferenceException failed:
                LogGenerationFailed(logger, failed);
                return Error(StatusCodes.Status500InternalServerError, new OpenAiError(failed.Message, OpenAiError.Server, null, null));
            default:
                return null;
        }
    }

    private static JsonHttpResult<OpenAiErrorResponse> Error(int status, OpenAiError error) =>
        TypedResults.Json(new OpenAiErrorResponse(error), OpenAiJsonContext.Default.OpenAiErrorResponse, statusCode: status);

    /// <summary>503 as problem details, which also carry OpenAI's <c>error</c> so OpenAI clients show the reason.</summary>
    private static ProblemHttpResult NoModel()
    {
        const string Detail = "This silo hosts no model: the OpenAI-compatible endpoint answers on silos that run the inference pool (Inference:ModelPath).";
        var error = new OpenAiErrorResponse(new OpenAiError(Detail, OpenAiError.Server, null, null));
        return TypedResults.Problem(
            Detail,
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "No model on this silo",
            extensions: new Dictionary<string, object?> { ["error"] = JsonSerializer.SerializeToElement(error, OpenAiJsonContext.Default.OpenAiErrorResponse).GetProperty("error") });
    }

    /// <summary>The model's card, created when its file was written: a stable answer for as long as the silo serves that file.</summary>
    private static ModelCard Card(PooledChatClient client)
    {
        var path = client.GetService<LlamaModel>()?.Path;
        var written = path is not null && File.Exists(path) ? new DateTimeOffset(File.GetLastWriteTimeUtc(path)) : DateTimeOffset.UnixEpoch;
        return new ModelCard(client.ModelId, written.ToUnixTimeSeconds());
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] json, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(DataPrefix, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync(EventEnd, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static string FinishReason(ChatFinishReason? reason) => reason == ChatFinishReason.Length ? "length" : "stop";

    private static CompletionUsage Usage(UsageDetails? usage)
    {
        var prompt = (int)(usage?.InputTokenCount ?? 0);
        var completion = (int)(usage?.OutputTokenCount ?? 0);
        return new CompletionUsage(prompt, completion, prompt + completion, new PromptTokensDetails((int)(usage?.CachedInputTokenCount ?? 0)));
    }

    private static string IdOf(string? responseId) => responseId ?? $"chat-{Guid.NewGuid():N}";

    private static long Unix(DateTimeOffset? time) => (time ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();

    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "OpenAI request refused (field {Param}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string? param, string reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "OpenAI request refused: the inference pool's queue is full ({Capacity} requests)")]
    private static partial void LogPoolBusy(ILogger logger, int capacity);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "OpenAI request failed in the inference pool")]
    private static partial void LogGenerationFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Error, Message = "OpenAI stream broke off after its response started")]
    private static partial void LogStreamFailed(ILogger logger, Exception error);
}
