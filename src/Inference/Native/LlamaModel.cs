using System.Runtime.InteropServices;
using System.Text;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Native;

/// <summary>llama.cpp refused a model file that parsed as GGUF; the message carries llama.cpp's reason.</summary>
public sealed class ModelLoadException(string path, string reason)
    : Exception($"{path}: llama.cpp could not load the model: {reason}")
{
    /// <summary>The model file.</summary>
    public string FilePath { get; } = path;
}

/// <summary>One chat turn for <see cref="LlamaModel.ApplyChatTemplate"/>.</summary>
/// <param name="Role">"system", "user" or "assistant".</param>
/// <param name="Content">The text.</param>
public readonly record struct ChatTurn(string Role, string Content);

/// <summary>
/// A loaded llama.cpp model: weights, vocabulary and chat template. Tokenisation is thread-safe in
/// llama.cpp, so grains may tokenise concurrently while the pool decodes.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly SafeLlamaModelHandle _handle;
    private readonly IntPtr _vocab;
    private readonly byte[][] _pieces;

    private LlamaModel(string path, SafeLlamaModelHandle handle, GgufFile header)
    {
        Path = path;
        _handle = handle;
        Header = header;
        var model = handle.DangerousGetHandle();
        _vocab = LlamaApi.llama_model_get_vocab(model);
        VocabularySize = LlamaApi.llama_vocab_n_tokens(_vocab);
        TrainedContextLength = LlamaApi.llama_model_n_ctx_train(model);
        EmbeddingLength = LlamaApi.llama_model_n_embd(model);
        LayerCount = LlamaApi.llama_model_n_layer(model);
        HeadCount = LlamaApi.llama_model_n_head(model);
        HeadCountKv = LlamaApi.llama_model_n_head_kv(model);
        SizeBytes = (long)LlamaApi.llama_model_size(model);
        ParameterCount = (long)LlamaApi.llama_model_n_params(model);
        BeginOfSequence = LlamaApi.llama_vocab_bos(_vocab);
        EndOfSequence = LlamaApi.llama_vocab_eos(_vocab);
        unsafe
        {
            var buffer = stackalloc byte[256];
            var n = LlamaApi.llama_model_desc(model, buffer, 256);
            Description = n > 0 ? Encoding.UTF8.GetString(buffer, Math.Min(n, 255)) : string.Empty;
            var template = LlamaApi.llama_model_chat_template(model, null);
            ChatTemplate = template is null ? null : LlamaLibrary.Utf8(template);
        }

        _pieces = new byte[VocabularySize][];
        for (var token = 0; token < VocabularySize; token++)
        {
            _pieces[token] = PieceOf(token);
        }
    }

    /// <summary>The file loaded.</summary>
    public string Path { get; }

    /// <summary>The GGUF header (metadata and tensors) of the file.</summary>
    public GgufFile Header { get; }

    /// <summary>llama.cpp's one-line description (architecture, size, type).</summary>
    public string Description { get; }

    /// <summary>Number of tokens in the vocabulary.</summary>
    public int VocabularySize { get; }

    /// <summary>Context length the model was trained for.</summary>
    public int TrainedContextLength { get; }

    /// <summary>Embedding width.</summary>
    public int EmbeddingLength { get; }

    /// <summary>Number of transformer blocks.</summary>
    public int LayerCount { get; }

    /// <summary>Attention heads.</summary>
    public int HeadCount { get; }

    /// <summary>Key/value heads.</summary>
    public int HeadCountKv { get; }

    /// <summary>Bytes of weights.</summary>
    public long SizeBytes { get; }

    /// <summary>Number of parameters.</summary>
    public long ParameterCount { get; }

    /// <summary>The BOS token id (-1 if none).</summary>
    public int BeginOfSequence { get; }

    /// <summary>The EOS token id (-1 if none).</summary>
    public int EndOfSequence { get; }

    /// <summary>The chat template stored in the file, or null.</summary>
    public string? ChatTemplate { get; }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    /// <summary>
    /// Loads <paramref name="path"/>. The header is checked first, so a missing, foreign or truncated file
    /// gives <see cref="FileNotFoundException"/> or <see cref="GgufFormatException"/> naming the file.
    /// </summary>
    /// <param name="path">A GGUF file.</param>
    /// <param name="gpuLayers">Layers to offload to the GPU; negative for all (ignored on the CPU build).</param>
    /// <param name="vocabularyOnly">Load only the vocabulary and metadata (to tokenize; nothing can be decoded).</param>
    /// <exception cref="ModelLoadException">llama.cpp refused the file.</exception>
    public static LlamaModel Load(string path, int gpuLayers = -1, bool vocabularyOnly = false)
    {
        var full = System.IO.Path.GetFullPath(path);
        var header = GgufFile.Read(full);
        if (LlamaLibrary.Info is null)
        {
            LlamaLibrary.Initialize();
        }

        var parameters = LlamaApi.llama_model_default_params();
        parameters.n_gpu_layers = gpuLayers < 0 ? 999 : gpuLayers;
        parameters.vocab_only = vocabularyOnly;
        _ = LlamaLibrary.TakeRecentErrors();
        var pointer = LlamaApi.llama_model_load_from_file(full, parameters);
        if (pointer == IntPtr.Zero)
        {
            var reason = LlamaLibrary.TakeRecentErrors();
            throw new ModelLoadException(full, reason.Length > 0 ? reason : "no reason given");
        }

        var handle = new SafeLlamaModelHandle();
        Marshal.InitHandle(handle, pointer);
        return new LlamaModel(full, handle, header);
    }

    /// <summary>Tokenises <paramref name="text"/>.</summary>
    /// <param name="text">UTF-8 text.</param>
    /// <param name="addSpecial">Add BOS (and EOS) as the model is configured to.</param>
    /// <param name="parseSpecial">Turn special-token text (e.g. "&lt;/s&gt;") into those tokens.</param>
    public int[] Tokenize(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var tokens = new int[bytes.Length + 2];
        unsafe
        {
            fixed (byte* b = bytes)
            fixed (int* t = tokens)
            {
                var n = LlamaApi.llama_tokenize(_vocab, b, bytes.Length, t, tokens.Length, addSpecial, parseSpecial);
                if (n < 0)
                {
                    tokens = new int[-n];
                    fixed (int* t2 = tokens)
                    {
                        n = LlamaApi.llama_tokenize(_vocab, b, bytes.Length, t2, tokens.Length, addSpecial, parseSpecial);
                    }
                }

                return tokens.AsSpan(0, n).ToArray();
            }
        }
    }

    /// <summary>The UTF-8 bytes token <paramref name="token"/> renders to (special tokens render empty).</summary>
    public ReadOnlySpan<byte> TokenBytes(int token) => (uint)token < (uint)_pieces.Length ? _pieces[token] : [];

    /// <summary>Renders <paramref name="tokens"/> as text.</summary>
    public string Detokenize(IEnumerable<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            bytes.AddRange(TokenBytes(token));
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>True for end-of-generation tokens (EOS, EOT, ...).</summary>
    public bool IsEndOfGeneration(int token) => LlamaApi.llama_vocab_is_eog(_vocab, token);

    /// <summary>
    /// Formats <paramref name="turns"/> with the model's chat template (llama.cpp's built-in templates:
    /// chatml, llama2/3, mistral, gemma, phi, ...). Null when the model has no template llama.cpp knows.
    /// </summary>
    public string? ApplyChatTemplate(IReadOnlyList<ChatTurn> turns, bool addAssistantPrompt = true, string? template = null)
    {
        ArgumentNullException.ThrowIfNull(turns);
        template ??= ChatTemplate;
        if (template is null)
        {
            return null;
        }

        var strings = new List<IntPtr>();
        try
        {
            unsafe
            {
                var messages = new LlamaChatMessage[turns.Count];
                for (var i = 0; i < turns.Count; i++)
                {
                    var role = Marshal.StringToCoTaskMemUTF8(turns[i].Role);
                    var content = Marshal.StringToCoTaskMemUTF8(turns[i].Content);
                    strings.Add(role);
                    strings.Add(content);
                    messages[i] = new LlamaChatMessage { role = (byte*)role, content = (byte*)content };
                }

                var tmpl = Marshal.StringToCoTaskMemUTF8(template);
                strings.Add(tmpl);
                var capacity = 256 + turns.Sum(t => Encoding.UTF8.GetByteCount(t.Content) + Encoding.UTF8.GetByteCount(t.Role)) * 2;
                while (true)
                {
                    var buffer = new byte[capacity];
                    int n;
                    fixed (LlamaChatMessage* m = messages)
                    fixed (byte* b = buffer)
                    {
                        n = LlamaApi.llama_chat_apply_template((byte*)tmpl, m, (nuint)messages.Length, addAssistantPrompt, b, buffer.Length);
                    }

                    if (n < 0)
                    {
                        return null;
                    }

                    if (n <= capacity)
                    {
                        return Encoding.UTF8.GetString(buffer, 0, n);
                    }

                    capacity = n;
                }
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private byte[] PieceOf(int token)
    {
        unsafe
        {
            var buffer = stackalloc byte[128];
            var n = LlamaApi.llama_token_to_piece(_vocab, token, buffer, 128, 0, false);
            if (n < 0)
            {
                var large = new byte[-n];
                fixed (byte* l = large)
                {
                    n = LlamaApi.llama_token_to_piece(_vocab, token, l, large.Length, 0, false);
                }

                return large[..Math.Max(0, n)];
            }

            return new ReadOnlySpan<byte>(buffer, n).ToArray();
        }
    }
}
