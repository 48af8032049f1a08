using System.Diagnostics;
using System.Collections.Concurrent;
using AgentTheater.Inference.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentTheater.Inference.Engine;

/// <summary>
/// One model, one llama.cpp context with many sequences, one scheduler thread doing continuous batching.
/// Every step packs one decode token for each generating sequence plus chunks of waiting prompts into a
/// single <c>llama_decode</c>, then samples every sequence. Requests carry a session key: the session keeps
/// its sequence, and the next request prefills only what differs from the cached tokens.
/// </summary>
public sealed partial class InferencePool : IAsyncDisposable, IDisposable
{
    private readonly InferencePoolOptions _options;
    private readonly ILogger _logger;
    private readonly LlamaContext _context;
    private readonly NativeBatch _batch;
    private readonly SequenceSlot[] _slots;
    private readonly Dictionary<string, SequenceSlot> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<object> _inbox = new();
    private readonly List<PoolJob> _waiting = [];
    private readonly List<ForkJob> _waitingForks = [];
    private readonly List<PoolJob> _running = [];
    private readonly SemaphoreSlim _admission;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _scheduler;
    private readonly bool _ownsModel;
    private readonly bool _canShift;
    private readonly HostKvTier? _hostTier;
    private readonly DiskKvTier? _diskTier;

    /// <summary>Tokens of sessions that lost their sequence with nothing saved, to count what their return prefills again.</summary>
    private readonly Dictionary<string, int[]> _lost = new(StringComparer.Ordinal);
    private int? _chatMessageTokens;
    private bool _warnedTierTooSmall;
    private long _clock;
    private int _disposed;

    /// <summary>Loads the model named in <paramref name="options"/> and starts the scheduler.</summary>
    public InferencePool(InferencePoolOptions options, ILoggerFactory? loggerFactory = null)
        : this(LoadModel(options, loggerFactory), options, loggerFactory, ownsModel: true)
    {
    }

    /// <summary>Starts a pool over an already loaded <paramref name="model"/> (not disposed with the pool).</summary>
    public InferencePool(LlamaModel model, InferencePoolOptions options, ILoggerFactory? loggerFactory = null)
        : this(model, options, loggerFactory, ownsModel: false)
    {
    }

    private InferencePool(LlamaModel model, InferencePoolOptions options, ILoggerFactory? loggerFactory, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ownsModel = ownsModel;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<InferencePool>();
        Model = model;
        PromptFormat = PromptFormats.Resolve(model);
        _context = new LlamaContext(model, new LlamaContextSettings(
            options.SequenceContextLength,
            options.MaxSequences,
            options.BatchSize,
            options.MicroBatchSize,
            options.EffectiveThreads,
            options.UnifiedKv,
            options.FlashAttentionFor(LlamaLibrary.Info?.Backend ?? LlamaBackendKind.Cpu)));
        _canShift = _context.CanShift;
        var hostBytes = options.HostKvBytes;
        _hostTier = hostBytes > 0 ? new HostKvTier(hostBytes) : null;
        _diskTier = string.IsNullOrWhiteSpace(options.DiskKvDirectory) ? null : new DiskKvTier(options.DiskKvDirectory, options.DiskKvMegabytes * (1L << 20));
        Statistics.HostTier = _hostTier;
        _batch = new NativeBatch(_context.BatchSize);
        _slots = [.. Enumerable.Range(0, _context.MaxSequences).Select(i => new SequenceSlot(i))];
        _admission = new SemaphoreSlim(options.MaxQueuedRequests, options.MaxQueuedRequests);
        LogPoolStarted(_logger, model.Path, _context.MaxSequences, SequenceContextLength, _context.BatchSize, options.EffectiveThreads, LlamaLibrary.Info?.Backend ?? LlamaBackendKind.Cpu);
        _scheduler = new Thread(RunScheduler) { IsBackground = true, Name = "InferencePool scheduler" };
        _scheduler.Start();
    }

    /// <summary>Raised on the scheduler thread after every decode step (keep handlers cheap).</summary>
    public event Action<PoolStep>? StepCompleted;

    /// <summary>The model.</summary>
    public LlamaModel Model { get; }

    /// <summary>
    /// The prompt format the model gets when a scenario leaves it to the model (auto; see
    /// <see cref="PromptFormats.Resolve"/>): the script for the project's own models, chat for a model with a chat
    /// template llama.cpp recognises, else the script.
    /// </summary>
    public PromptFormat PromptFormat { get; }

    /// <summary>Sequences in the context.</summary>
    public int MaxSequences => _context.MaxSequences;

    /// <summary>
    /// Tokens each sequence may hold: the configured length (llama.cpp pads its own to a multiple of 256, and a
    /// limit that moved with that padding would surprise whoever set it).
    /// </summary>
    public int SequenceContextLength => Math.Min(_options.SequenceContextLength, _context.SequenceContextLength);

    /// <summary>Whether dropped chunks of a session's prompt are shifted out of its cache (the option, and the model's memory allows it).</summary>
    public bool ShiftsContext => _options.ContextShift && _canShift;

    /// <summary>Most tokens per decode step.</summary>
    public int BatchSize => _context.BatchSize;

    /// <summary>Running counters.</summary>
    public InferencePoolStatistics Statistics { get; } = new();

    /// <summary>The format for a scenario's request: <paramref name="requested"/>, or <see cref="PromptFormat"/> when null (auto).</summary>
    /// <exception cref="PromptFormatException">Chat was requested and the model has no template llama.cpp recognises.</exception>
    public PromptFormat ResolvePromptFormat(PromptFormat? requested) => PromptFormats.Resolve(Model, requested);

    /// <summary>
    /// Tokens the model's chat template adds around one more message (role markers and separators, measured on a
    /// one-word user message); 0 when llama.cpp does not know the template.
    /// </summary>
    public int ChatMessageTokens => _chatMessageTokens ??= PromptFormats.ChatMessageTokens(Model);


    /// <summary>
    /// Starts a generation. Argument errors throw here; a full queue, a prompt too long, cancellation or a
    /// failed decode fail <see cref="StreamingGeneration.Completion"/>.
    /// </summary>
    public StreamingGeneration Generate(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Sampling.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxTokens, 1, nameof(request.MaxTokens));
        var tokens = request.PromptTokens is null && request.Messages is { } messages
            ? ChatTokens(messages, null, nameof(request.Messages))
            : PromptTokens(request.Prompt, request.PromptTokens, nameof(request.Prompt));
        var job = new GenerateJob(request, tokens);
        var stream = new StreamingGeneration(job.Pieces.Reader, job.Result.Task, () => Post(new CancelCommand(job)));
        if (tokens.Length + 1 > SequenceContextLength)
        {
            job.Fail(new PromptTooLongException(tokens.Length + 1, SequenceContextLength));
            return stream;
        }

        Submit(job, cancellationToken);
        return stream;
    }

    /// <summary>Generates and returns the whole result.</summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        Generate(request, cancellationToken).Completion;

    /// <summary>Log-probability of a continuation after a prompt (teacher forcing, batched with everything else).</summary>
    public Task<ScoreResult> ScoreAsync(ScoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int[] tokens;
        int promptLength;
        if (request.PromptTokens is not null || request.ContinuationTokens is not null)
        {
            var prompt = PromptTokens(null, request.PromptTokens, nameof(request.PromptTokens));
            var continuation = request.ContinuationTokens?.ToArray() ?? [];
            ValidateTokens(continuation, nameof(request.ContinuationTokens));
            tokens = [.. prompt, .. continuation];
            promptLength = prompt.Length;
        }
        else if (request.Messages is { } messages)
        {
            // As for text: the continuation is tokenised together with the assistant prompt's last stretch of text.
            var prompt = ChatTokens(messages, null, nameof(request.Messages));
            tokens = ChatTokens(messages, request.Continuation ?? string.Empty, nameof(request.Messages));
            promptLength = Math.Max(1, Math.Min(CommonPrefix(prompt, tokens), prompt.Length));
        }
        else
        {
            // Tokenise the whole text once so the scored tokens are the ones the model would see; the prompt
            // part is the longest prefix shared with the prompt's own tokenisation.
            var prompt = PromptTokens(request.Prompt, null, nameof(request.Prompt));
            tokens = Model.Tokenize(request.Prompt + (request.Continuation ?? string.Empty), addSpecial: true, parseSpecial: false);
            promptLength = Math.Max(1, Math.Min(CommonPrefix(prompt, tokens), prompt.Length));
        }

        var job = new ScoreJob(request.SessionKey, tokens, promptLength);
        if (tokens.Length > SequenceContextLength)
        {
            job.Fail(new PromptTooLongException(tokens.Length, SequenceContextLength));
        }
        else if (tokens.Length == promptLength)
        {
            job.Complete();
        }
        else
        {
            Submit(job, cancellationToken);
        }

        return job.Result.Task;
    }

    /// <summary>
    /// Copies <paramref name="source"/>'s sequence into each of <paramref name="targets"/> (whole-sequence
    /// <c>llama_memory_seq_cp</c>), so they continue from the same state without prefill. Waits until the
    /// source is idle. Returns the number of tokens copied per target.
    /// </summary>
    public Task<int> ForkAsync(string source, IReadOnlyList<string> targets, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0 || targets.Any(string.IsNullOrEmpty) || targets.Contains(source) || targets.Distinct().Count() != targets.Count)
        {
            throw new ArgumentException("Fork targets must be distinct, non-empty session keys other than the source.", nameof(targets));
        }

        return Fork(source, targets, pinned: false, cancellationToken);
    }

    /// <summary>
    /// Brings <paramref name="source"/>'s sequence to exactly the tokens of <paramref name="sourcePrompt"/> (decoding
    /// only what it does not cache, as <see cref="PrefillAsync(string, string, CancellationToken)"/>) and copies it into each of <paramref name="targets"/>:
    /// a branch point that costs one prefill, however many copies. The source cannot be evicted in between.
    /// </summary>
    public async Task<SequenceForkResult> ForkAsync(string source, IReadOnlyList<string> targets, string sourcePrompt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(targets);
        var prefilled = await Prefill(source, PromptTokens(sourcePrompt, null, nameof(sourcePrompt)), pinForFork: true, cancellationToken).ConfigureAwait(false);
        var copied = await Fork(source, targets, pinned: true, cancellationToken).ConfigureAwait(false);
        return new SequenceForkResult(copied, prefilled);
    }

    /// <summary>
    /// As <see cref="ForkAsync(string, IReadOnlyList{string}, string, CancellationToken)"/>, from the chat prompt of
    /// <paramref name="sourceMessages"/> (ending in the assistant prompt).
    /// </summary>
    public async Task<SequenceForkResult> ForkAsync(string source, IReadOnlyList<string> targets, IReadOnlyList<ChatTurn> sourceMessages, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(targets);
        var prefilled = await Prefill(source, ChatTokens(sourceMessages, null, nameof(sourceMessages)), pinForFork: true, cancellationToken).ConfigureAwait(false);
        var copied = await Fork(source, targets, pinned: true, cancellationToken).ConfigureAwait(false);
        return new SequenceForkResult(copied, prefilled);
    }

    /// <summary>
    /// Brings <paramref name="session"/>'s sequence to exactly the tokens of <paramref name="prompt"/>: the cached prefix
    /// is kept, a cached tail that differs (or runs past the prompt) is dropped, and only the rest is decoded, batched
    /// with everything else. Fork from it afterwards to branch at that point. Returns the tokens decoded.
    /// </summary>
    public Task<int> PrefillAsync(string session, string prompt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(session);
        return Prefill(session, PromptTokens(prompt, null, nameof(prompt)), pinForFork: false, cancellationToken);
    }

    /// <summary>As <see cref="PrefillAsync(string, string, CancellationToken)"/>, to the chat prompt of <paramref name="messages"/> (ending in the assistant prompt).</summary>
    public Task<int> PrefillAsync(string session, IReadOnlyList<ChatTurn> messages, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(session);
        return Prefill(session, ChatTokens(messages, null, nameof(messages)), pinForFork: false, cancellationToken);
    }

    private Task<int> Prefill(string session, int[] tokens, bool pinForFork, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(session);
        var job = new PrefillJob(session, tokens, pinForFork);
        if (tokens.Length > SequenceContextLength)
        {
            job.Fail(new PromptTooLongException(tokens.Length, SequenceContextLength));
        }
        else
        {
            Submit(job, cancellationToken);
        }

        return job.Result.Task;
    }

    /// <summary>
    /// Log-probability of each of <paramref name="continuations"/> after one <paramref name="prompt"/>: the prompt is
    /// decoded once (in <paramref name="session"/>'s sequence when given, reusing what it caches), copied into a
    /// sequence per continuation (<c>llama_memory_seq_cp</c>), and every continuation is scored in the same batches, so
    /// each costs only its own tokens. The copies are freed afterwards.
    /// </summary>
    public async Task<IReadOnlyList<ScoreResult>> ScoreAlternativesAsync(
        string prompt, IReadOnlyList<string> continuations, string? session = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(continuations);
        if (continuations.Count == 0)
        {
            return [];
        }

        var source = session ?? $"alternatives/{Guid.NewGuid():N}";
        var prefilled = 0;
        var results = new ScoreResult[continuations.Count];

        // Copies in rounds of at most a quarter of the sequences, so scoring never takes over the whole pool.
        var round = Math.Max(1, Math.Min(continuations.Count, (MaxSequences - 1) / 4));
        try
        {
            for (var start = 0; start < continuations.Count; start += round)
            {
                var count = Math.Min(round, continuations.Count - start);
                var copies = Enumerable.Range(start, count).Select(i => $"{source}#alternative{i}").ToArray();
                prefilled += (await ForkAsync(source, copies, prompt, cancellationToken).ConfigureAwait(false)).PrefillTokens;
                try
                {
                    var scored = await Task.WhenAll(copies.Select((copy, k) => ScoreAsync(
                        new ScoreRequest { SessionKey = copy, Prompt = prompt, Continuation = continuations[start + k] },
                        cancellationToken))).ConfigureAwait(false);
                    scored.CopyTo(results, start);
                }
                finally
                {
                    foreach (var copy in copies)
                    {
                        ForgetSession(copy);
                    }
                }
            }
        }
        finally
        {
            if (session is null)
            {
                ForgetSession(source);
            }
        }

        // The shared prompt's decode is charged to the first alternative, so the sum is what the pool did.
        results[0] = results[0] with { PrefillTokens = results[0].PrefillTokens + prefilled };
        return results;
    }

    private Task<int> Fork(string source, IReadOnlyList<string> targets, bool pinned, CancellationToken cancellationToken)
    {
        var fork = new ForkJob(source, [.. targets], pinned);
        cancellationToken.Register(() => fork.Result.TrySetCanceled(cancellationToken));
        Post(fork);
        return fork.Result.Task;
    }

    /// <summary>Tokens <paramref name="text"/> takes inside a prompt (special-token text stays text; no BOS).</summary>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? 0 : Model.Tokenize(text, addSpecial: false, parseSpecial: false).Length;
    }

    /// <summary>Drops a session's cached tokens and frees its sequence.</summary>
    public void ForgetSession(string session) => Post(new ForgetCommand(session));

    /// <summary>Tokens cached for <paramref name="session"/> (a snapshot; -1 when unknown).</summary>
    public int CachedTokens(string session)
    {
        lock (_sessions)
        {
            return _sessions.TryGetValue(session, out var slot) ? slot.Cached.Count : -1;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _wake.Release();
        _scheduler.Join();
        _batch.Dispose();
        _context.Dispose();
        if (_ownsModel)
        {
            Model.Dispose();
        }

        _stopping.Dispose();
        _admission.Dispose();
        _wake.Dispose();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static LlamaModel LoadModel(InferencePoolOptions options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        LlamaLibrary.Initialize(string.IsNullOrWhiteSpace(options.NativeDirectory) ? null : options.NativeDirectory, loggerFactory?.CreateLogger("AgentTheater.Inference.Native"));
        return LlamaModel.Load(options.ModelPath, options.GpuLayers);
    }

    private static int CommonPrefix(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.CommonPrefixLength(b);

    private int[] PromptTokens(string? text, IReadOnlyList<int>? tokens, string name)
    {
        if (tokens is not null)
        {
            var array = tokens.ToArray();
            ValidateTokens(array, name + "Tokens");
            if (array.Length == 0)
            {
                throw new ArgumentException("The prompt has no tokens.", name + "Tokens");
            }

            return array;
        }

        if (text is null)
        {
            throw new ArgumentException("A prompt is required (text or tokens).", name);
        }

        // Text prompts are text: "<|im_end|>" in a line must not end a turn (BOS is still added as the model says).
        var result = Model.Tokenize(text, addSpecial: true, parseSpecial: false);
        return result.Length > 0 ? result : throw new ArgumentException("The prompt has no tokens.", name);
    }

    private int[] ChatTokens(IReadOnlyList<ChatTurn> messages, string? continuation, string name)
    {
        ArgumentNullException.ThrowIfNull(messages, name);
        if (messages.Count == 0)
        {
            throw new ArgumentException("A chat prompt needs at least one message.", name);
        }

        var tokens = Model.TokenizeChat(messages, addAssistantPrompt: true, template: null, continuation)
            ?? throw new PromptFormatException(Model.Path, PromptFormats.NoTemplateReason(Model));
        return tokens.Length > 0 ? tokens : throw new ArgumentException("The prompt has no tokens.", name);
    }

    private void ValidateTokens(int[] tokens, string name)
    {
        foreach (var token in tokens)
        {
            if ((uint)token >= (uint)Model.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(name, token, $"Token id {token} is outside the vocabulary (0..{Model.VocabularySize - 1}).");
            }
        }
    }

    private void Submit(PoolJob job, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            job.Fail(new OperationCanceledException(cancellationToken));
            return;
        }

        if (!_admission.Wait(0, CancellationToken.None))
        {
            if (!_options.WaitWhenBusy)
            {
                Statistics.OnRejected();
                job.Fail(new InferencePoolBusyException(_options.MaxQueuedRequests));
                return;
            }

            _ = WaitForAdmission(job, cancellationToken);
            return;
        }

        Enqueue(job, cancellationToken);
    }

    private async Task WaitForAdmission(PoolJob job, CancellationToken cancellationToken)
    {
        // Backpressure: the caller waits for room as long as its own token allows (a grain call's timeout cancels it).
        var started = Stopwatch.GetTimestamp();
        Statistics.OnWaitStarted();
        try
        {
            await _admission.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            job.Fail(e);
            return;
        }
        finally
        {
            Statistics.OnWaitEnded(Stopwatch.GetElapsedTime(started));
        }

        Enqueue(job, cancellationToken);
    }

    private void Enqueue(PoolJob job, CancellationToken cancellationToken)
    {
        Statistics.OnQueued();
        if (cancellationToken.CanBeCanceled)
        {
            job.Registration = cancellationToken.Register(() => Post(new CancelCommand(job)));
        }

        Post(job);
    }

    private void Post(object command)
    {
        _inbox.Enqueue(command);
        if (Volatile.Read(ref _disposed) == 0)
        {
            _wake.Release();
        }
    }

    private sealed record CancelCommand(PoolJob Job);

    private sealed record ForgetCommand(string Session);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Inference pool started: {ModelPath}, {Sequences} sequences x {SequenceContext} tokens, batch {Batch}, {Threads} threads, {Backend}")]
    private static partial void LogPoolStarted(ILogger logger, string modelPath, int sequences, int sequenceContext, int batch, int threads, LlamaBackendKind backend);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "KV spill file {File} of session {Session} does not check out; deleted, the session is prefilled again")]
    private static partial void LogSpillCorrupted(ILogger logger, string file, string session);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Inference:HostKvMegabytes is too small to hold one session: a state of {Tokens} tokens takes {Bytes} bytes, the tier holds {Budget}; evicted sessions are prefilled again")]
    private static partial void LogHostTierTooSmall(ILogger logger, int bytes, int tokens, long budget);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "llama_decode failed with {Code} for a batch of {Tokens} tokens over {Requests} requests: {Reason}")]
    private static partial void LogDecodeFailed(ILogger logger, int code, int tokens, int requests, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Inference scheduler step failed")]
    private static partial void LogSchedulerError(ILogger logger, Exception error);
}
