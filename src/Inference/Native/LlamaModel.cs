using System.Runtime.InteropServices;
using System.Text;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Native;

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
    // llama_token_attr bits.
    private const int AttributeUnknown = 1 << 0;
    private const int AttributeControl = 1 << 3;

    // Contents stand in the rendered template as one code point each of the supplementary private use area A.
    private const int FirstPlaceholder = 0xF0000;
    private const int PlaceholderCount = 0xFFFFE - FirstPlaceholder;

    private readonly SafeLlamaModelHandle _handle;
    private readonly IntPtr _vocab;
    private readonly byte[][] _pieces;

    // Control tokens by the first character of their text, longest first: the markers a chat template renders.
    private readonly Dictionary<char, (string Text, int Token)[]> _controlTokens;

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
        AddsBeginOfSequence = LlamaApi.llama_vocab_get_add_bos(_vocab);
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
            _pieces[token] = PieceOf(token, special: false);
        }

        _controlTokens = ControlTokens();
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

    /// <summary>Whether tokenising adds BOS in front (<c>tokenizer.ggml.add_bos_token</c>, or the tokenizer's default).</summary>
    public bool AddsBeginOfSequence { get; }

    /// <summary>The chat template stored in the file, or null.</summary>
    public string? ChatTemplate { get; }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    /// <summary>
    /// Loads <paramref name="path"/>. The file passes <see cref="ModelFile.CheckHeader"/> first, so a missing, foreign,
    /// truncated or corrupt file is reported naming the file, and never reaches llama.cpp.
    /// </summary>
    /// <param name="path">A GGUF file.</param>
    /// <param name="gpuLayers">Layers to offload to the GPU; negative for all (ignored on the CPU build).</param>
    /// <exception cref="ModelFileException">The file fails a check, or llama.cpp refused it.</exception>
    public static LlamaModel Load(string path, int gpuLayers = -1)
    {
        var header = ModelFile.CheckHeader(path);
        if (LlamaLibrary.Info is null)
        {
            LlamaLibrary.Initialize();
        }

        var parameters = LlamaApi.llama_model_default_params();
        parameters.n_gpu_layers = gpuLayers < 0 ? 999 : gpuLayers;
        var handle = LoadHandle(header.Path, parameters);
        return new LlamaModel(header.Path, handle, header);
    }

    /// <summary>
    /// Has llama.cpp load <paramref name="path"/> (a file that passed <see cref="ModelFile.CheckHeader"/>) and frees it:
    /// on the CPU, with the weights mapped from the file, neither copied into repacked CPU buffers nor into pinned host
    /// memory, so it costs little more than building the vocabulary.
    /// </summary>
    /// <exception cref="ModelFileException">llama.cpp refused the file.</exception>
    internal static void CheckLoads(string path)
    {
        var parameters = LlamaApi.llama_model_default_params();
        parameters.n_gpu_layers = 0;
        parameters.use_mmap = true;
        parameters.use_extra_bufts = false;
        parameters.no_host = true;
        LoadHandle(path, parameters).Dispose();
    }

    private static SafeLlamaModelHandle LoadHandle(string path, LlamaModelParams parameters)
    {
        _ = LlamaLibrary.TakeRecentErrors();
        var pointer = LlamaApi.llama_model_load_from_file(path, parameters);
        if (pointer == IntPtr.Zero)
        {
            throw new ModelFileException(path, ModelFileProblem.RefusedByLlama, $"llama.cpp could not load the model: {LoadError(LlamaLibrary.TakeRecentErrors())}");
        }

        var handle = new SafeLlamaModelHandle();
        Marshal.InitHandle(handle, pointer);
        return handle;
    }

    /// <summary>llama.cpp's reason for refusing a model: its "error loading model" line when there is one, else every warning.</summary>
    private static string LoadError(string logged)
    {
        const string Marker = "error loading model: ";
        var at = logged.IndexOf(Marker, StringComparison.Ordinal);
        return at >= 0 ? logged[(at + Marker.Length)..].Split('\n')[0].Trim()
            : logged.Length > 0 ? logged
            : "no reason given";
    }

    /// <summary>Tokenises <paramref name="text"/>.</summary>
    /// <param name="text">UTF-8 text.</param>
    /// <param name="addSpecial">Add BOS (and EOS) as the model is configured to.</param>
    /// <param name="parseSpecial">
    /// Turn control-token text (e.g. "&lt;/s&gt;", "&lt;|im_end|&gt;") into those tokens. Off for anything a character,
    /// a narrator or a user wrote: with it on, such text in a line would end a turn or open a new one.
    /// </param>
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
    public string Detokenize(IEnumerable<int> tokens) => Detokenize(tokens, renderSpecial: false);

    /// <summary>
    /// Renders <paramref name="tokens"/> as text; with <paramref name="renderSpecial"/>, control tokens render as their
    /// text (e.g. <c>&lt;|im_start|&gt;</c>) instead of nothing.
    /// </summary>
    public string Detokenize(IEnumerable<int> tokens, bool renderSpecial)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (renderSpecial && IsControl(token))
            {
                bytes.AddRange(PieceOf(token, special: true));
            }
            else
            {
                bytes.AddRange(TokenBytes(token));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>True for control tokens (BOS, EOS, a chat template's markers such as <c>&lt;|im_start|&gt;</c>).</summary>
    public bool IsControl(int token) => (uint)token < (uint)_pieces.Length && (LlamaApi.llama_vocab_get_attr(_vocab, token) & AttributeControl) != 0;

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

    /// <summary>
    /// Tokenises <paramref name="turns"/> through the chat template so that only the template's own markers are
    /// control tokens: every content is text, whatever it says (a line reading <c>&lt;|im_end|&gt;</c> stays those
    /// characters). Null when the model has no template llama.cpp knows (or <paramref name="template"/> is not one).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The template is rendered with each content replaced by a private-use placeholder; the rendered text is cut at
    /// the template's control-token text (as llama.cpp's special-token parsing would cut it) and at the placeholders.
    /// Each stretch of text between two control tokens (template text and contents together) is tokenised as one piece
    /// with special-token parsing off, exactly as llama.cpp tokenises the stretches of a whole prompt, so for contents
    /// without control-token text the result equals <c>Tokenize(rendered, parseSpecial: true)</c>. In particular a
    /// SentencePiece vocabulary that adds a space prefix adds it where llama.cpp would: at the start of the prompt and
    /// after each control token, never between a role name and its content.
    /// </para>
    /// <para>
    /// Contents are trimmed first, as most of llama.cpp's built-in templates do themselves (the placeholders would hide
    /// the whitespace from them). BOS is added when the model adds it and the template did not render it.
    /// </para>
    /// </remarks>
    /// <param name="turns">The conversation, at most 65534 turns.</param>
    /// <param name="addAssistantPrompt">End with the template's opening of an assistant turn.</param>
    /// <param name="template">A template or built-in template name instead of the model's.</param>
    public int[]? TokenizeChat(IReadOnlyList<ChatTurn> turns, bool addAssistantPrompt = true, string? template = null) =>
        TokenizeChat(turns, addAssistantPrompt, template, continuation: null);

    /// <summary>
    /// As <see cref="TokenizeChat(IReadOnlyList{ChatTurn}, bool, string?)"/>, with <paramref name="continuation"/> (text)
    /// appended after the rendered prompt and tokenised in the same stretch as the template's last text.
    /// </summary>
    internal int[]? TokenizeChat(IReadOnlyList<ChatTurn> turns, bool addAssistantPrompt, string? template, string? continuation)
    {
        ArgumentNullException.ThrowIfNull(turns);
        if (turns.Count > PlaceholderCount)
        {
            throw new ArgumentException($"A chat prompt holds at most {PlaceholderCount} turns, not {turns.Count}.", nameof(turns));
        }

        var placeholders = new ChatTurn[turns.Count];
        for (var i = 0; i < turns.Count; i++)
        {
            placeholders[i] = new ChatTurn(turns[i].Role, char.ConvertFromUtf32(FirstPlaceholder + i));
        }

        if (ApplyChatTemplate(placeholders, addAssistantPrompt, template) is not { } rendered)
        {
            return null;
        }

        var tokens = new List<int>();
        var stretch = new StringBuilder();
        void Flush()
        {
            if (stretch.Length > 0)
            {
                tokens.AddRange(Tokenize(stretch.ToString(), addSpecial: false, parseSpecial: false));
                stretch.Clear();
            }
        }

        var at = 0;
        while (at < rendered.Length)
        {
            if (char.IsHighSurrogate(rendered[at]) && at + 1 < rendered.Length && char.IsLowSurrogate(rendered[at + 1])
                && char.ConvertToUtf32(rendered[at], rendered[at + 1]) - FirstPlaceholder is var index && index >= 0 && index < turns.Count)
            {
                stretch.Append(turns[index].Content.Trim());
                at += 2;
            }
            else if (ControlTokenAt(rendered, at) is (var text, var token))
            {
                Flush();
                tokens.Add(token);
                at += text.Length;
            }
            else
            {
                stretch.Append(rendered[at]);
                at++;
            }
        }

        stretch.Append(continuation);
        Flush();
        if (AddsBeginOfSequence && BeginOfSequence >= 0 && (tokens.Count == 0 || tokens[0] != BeginOfSequence))
        {
            tokens.Insert(0, BeginOfSequence);
        }

        return [.. tokens];
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private (string Text, int Token)? ControlTokenAt(string text, int at)
    {
        if (_controlTokens.TryGetValue(text[at], out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (text.AsSpan(at).StartsWith(candidate.Text, StringComparison.Ordinal))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>The tokens llama.cpp's special-token parsing cuts text at (control and unknown), by first character, longest first.</summary>
    private Dictionary<char, (string Text, int Token)[]> ControlTokens()
    {
        var found = new List<(string Text, int Token)>();
        for (var token = 0; token < VocabularySize; token++)
        {
            if ((LlamaApi.llama_vocab_get_attr(_vocab, token) & (AttributeControl | AttributeUnknown)) != 0
                && Encoding.UTF8.GetString(PieceOf(token, special: true)) is { Length: > 0 } text)
            {
                found.Add((text, token));
            }
        }

        return found
            .GroupBy(t => t.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ToArray());
    }

    private byte[] PieceOf(int token, bool special)
    {
        unsafe
        {
            var buffer = stackalloc byte[128];
            var n = LlamaApi.llama_token_to_piece(_vocab, token, buffer, 128, 0, special);
            if (n < 0)
            {
                var large = new byte[-n];
                fixed (byte* l = large)
                {
                    n = LlamaApi.llama_token_to_piece(_vocab, token, l, large.Length, 0, special);
                }

                return large[..Math.Max(0, n)];
            }

            return new ReadOnlySpan<byte>(buffer, n).ToArray();
        }
    }
}
