using System.Globalization;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Gguf;

/// <summary>
/// The hyperparameters of a synthetic llama-architecture model: real shapes with random weights, so the
/// inference path can be exercised and timed without downloading a model.
/// </summary>
/// <param name="Name">Preset name, e.g. <c>tiny</c> or <c>llama3-8b</c>.</param>
/// <param name="EmbeddingLength">n_embd.</param>
/// <param name="BlockCount">Number of transformer blocks.</param>
/// <param name="FeedForwardLength">n_ff.</param>
/// <param name="HeadCount">Attention heads.</param>
/// <param name="HeadCountKv">Key/value heads (grouped-query attention).</param>
/// <param name="ContextLength">Training context length.</param>
/// <param name="RopeFreqBase">RoPE base frequency.</param>
public sealed record SyntheticModelShape(
    string Name,
    int EmbeddingLength,
    int BlockCount,
    int FeedForwardLength,
    int HeadCount,
    int HeadCountKv,
    int ContextLength,
    float RopeFreqBase)
{
    /// <summary>A model of a few hundred kilobytes for tests: 64 wide, 2 blocks, natural vocabulary.</summary>
    public static SyntheticModelShape Tiny { get; } = new("tiny", 64, 2, 128, 4, 2, 4096, 10000f);

    /// <summary>About 25M parameters (512 wide, 8 blocks): big enough that a CPU step is compute, not overhead.</summary>
    public static SyntheticModelShape Small { get; } = new("small", 512, 8, 1536, 8, 4, 4096, 10000f);

    /// <summary>The shape of Llama-3.2-1B, with a vocabulary padded to Llama 3's 128256 tokens.</summary>
    public static SyntheticModelShape Llama3_1B { get; } = new("llama3-1b", 2048, 16, 8192, 32, 8, 131072, 500000f)
    {
        PaddedVocabularySize = SyntheticVocabulary.Llama3VocabularySize,
    };

    /// <summary>The shape of Llama-3-8B, with a vocabulary padded to Llama 3's 128256 tokens.</summary>
    public static SyntheticModelShape Llama3_8B { get; } = new("llama3-8b", 4096, 32, 14336, 32, 8, 8192, 500000f)
    {
        PaddedVocabularySize = SyntheticVocabulary.Llama3VocabularySize,
    };

    /// <summary>Every preset, in order of size.</summary>
    public static IReadOnlyList<SyntheticModelShape> Presets { get; } = [Tiny, Small, Llama3_1B, Llama3_8B];

    /// <summary>
    /// Vocabulary size to pad to with unused tokens, so the embedding and output matrices cost what the real
    /// model's do; null keeps the synthetic vocabulary's natural size.
    /// </summary>
    public int? PaddedVocabularySize { get; init; }

    /// <summary>
    /// A chat model instead of one of ours: the vocabulary also holds <c>&lt;|im_start|&gt;</c> and <c>&lt;|im_end|&gt;</c>
    /// as control tokens (llama.cpp ends generation at <c>&lt;|im_end|&gt;</c>), the tokenizer adds no space prefix,
    /// and <see cref="PromptFormats.MetadataKey"/> is left out, so the ChatML template makes auto resolve to
    /// <see cref="PromptFormat.Chat"/>. Off: the vocabulary and weights are exactly those of the plain model.
    /// </summary>
    public bool ChatVocabulary { get; init; }

    /// <summary>Width of one attention head (n_embd / n_head), also the RoPE dimension count.</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <summary>Width of the key and value projections (head dimension × kv heads).</summary>
    public int KvEmbeddingLength => HeadDimension * HeadCountKv;

    /// <summary>Returns the preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists the valid ones.</exception>
    public static SyntheticModelShape Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var preset in Presets)
        {
            if (string.Equals(preset.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return preset;
            }
        }

        throw new ArgumentException(
            $"Unknown synthetic model shape '{name}': expected one of {string.Join(", ", Presets.Select(p => p.Name))}.",
            nameof(name));
    }
}

/// <summary>The token types of a SentencePiece vocabulary in GGUF (tokenizer.ggml.token_type, llama_token_type).</summary>
public enum SpmTokenType
{
    /// <summary>Undefined.</summary>
    Undefined = 0,

    /// <summary>An ordinary text piece.</summary>
    Normal = 1,

    /// <summary>The unknown token.</summary>
    Unknown = 2,

    /// <summary>A control token such as BOS or EOS.</summary>
    Control = 3,

    /// <summary>A user-defined token.</summary>
    UserDefined = 4,

    /// <summary>A placeholder that never occurs in text.</summary>
    Unused = 5,

    /// <summary>A byte-fallback token such as <c>&lt;0x0A&gt;</c>.</summary>
    Byte = 6,
}

/// <summary>A SentencePiece-style vocabulary: pieces, merge scores and token types, indexed by token id.</summary>
/// <param name="Tokens">The pieces; <c>▁</c> (U+2581) stands for a space.</param>
/// <param name="Scores">Merge scores: llama.cpp merges the adjacent pair whose concatenation scores highest first.</param>
/// <param name="TokenTypes">The type of each token.</param>
public sealed record SpmVocabulary(IReadOnlyList<string> Tokens, IReadOnlyList<float> Scores, IReadOnlyList<SpmTokenType> TokenTypes)
{
    /// <summary>Number of tokens (vocab_size).</summary>
    public int Count => Tokens.Count;
}

/// <summary>
/// Builds a small SentencePiece-style vocabulary (llama.cpp tokenizer model "llama") that tokenises everyday English
/// into whole words: control tokens, 256 byte-fallback tokens, printable ASCII, and a few hundred common words and
/// subwords together with every prefix of them, so each multi-character piece can be reached by llama.cpp's pairwise
/// SPM merges.
/// </summary>
public static class SyntheticVocabulary
{
    /// <summary>The SentencePiece space marker, U+2581.</summary>
    public const string SpaceMarker = "\u2581";

    /// <summary>Id of <c>&lt;unk&gt;</c>.</summary>
    public const int UnknownId = 0;

    /// <summary>Id of <c>&lt;s&gt;</c> (BOS).</summary>
    public const int BosId = 1;

    /// <summary>Id of <c>&lt;/s&gt;</c> (EOS).</summary>
    public const int EosId = 2;

    /// <summary>The ChatML turn markers a chat vocabulary adds after the natural tokens, as control tokens.</summary>
    public static IReadOnlyList<string> ChatMarkers { get; } = ["<|im_start|>", "<|im_end|>"];

    /// <summary>Llama 3's vocabulary size, which the llama3 shapes pad to.</summary>
    public const int Llama3VocabularySize = 128256;

    // Common English words, most frequent first; each becomes "▁word" (and its prefixes).
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with", "as", "I",
        "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "word", "but", "what", "some",
        "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how", "said", "an", "each",
        "she", "which", "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "write", "would",
        "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look", "more", "day", "could",
        "go", "come", "did", "number", "sound", "no", "most", "people", "my", "over", "know", "water", "than", "call",
        "first", "who", "may", "down", "side", "been", "now", "find", "any", "new", "work", "part", "take", "get", "place",
        "made", "live", "where", "after", "back", "little", "only", "round", "man", "year", "came", "show", "every", "good",
        "me", "give", "our", "under", "name", "very", "through", "just", "form", "sentence", "great", "think", "say",
        "help", "low", "line", "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too",
        "same", "tell", "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home",
        "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow",
        "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try", "us",
        "again", "animal", "point", "mother", "world", "near", "build", "self", "earth", "father", "head", "stand", "own",
        "page", "should", "country", "found", "answer", "school", "grow", "study", "still", "learn", "plant", "cover",
        "food", "sun", "four", "between", "state", "keep", "eye", "never", "last", "let", "thought", "city", "tree",
        "cross", "farm", "hard", "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run", "don't",
        "while", "press", "close", "night", "real", "life", "few", "north", "open", "seem", "together", "next", "white",
        "children", "begin", "got", "walk", "example", "ease", "paper", "group", "always", "music", "those", "both",
        "mark", "often", "letter", "until", "mile", "river", "car", "feet", "care", "second", "book", "carry", "took",
        "science", "eat", "room", "friend", "began", "idea", "fish", "mountain", "stop", "once", "base", "hear", "horse",
        "cut", "sure", "watch", "color", "face", "wood", "main", "enough", "plain", "girl", "usual", "young", "ready",
        "above", "ever", "red", "list", "though", "feel", "talk", "bird", "soon", "body", "dog", "family", "direct",
        "pose", "leave", "song", "measure", "door", "product", "black", "short", "class", "wind", "question", "happen",
        "complete", "ship", "area", "half", "rock", "order", "fire", "south", "problem", "piece", "told", "knew", "pass",
        "since", "top", "whole", "king", "space", "heard", "best", "hour", "better", "true", "during", "hundred", "five",
        "remember", "step", "early", "hold", "west", "ground", "interest", "reach", "fast", "verb", "sing", "listen",
        "six", "table", "travel", "less", "morning", "ten", "simple", "several", "toward", "war", "lay", "against",
        "pattern", "slow", "center", "love", "person", "money", "serve", "appear", "road", "map", "rain", "rule",
        "govern", "pull", "cold", "notice", "voice", "unit", "power", "town", "fine", "certain", "fly", "fall", "lead",
        "cry", "dark", "machine", "note", "wait", "plan", "figure", "star", "box", "noun", "field", "rest", "correct",
        "able", "pound", "done", "beauty", "drive", "stood", "contain", "front", "teach", "week", "final", "gave", "green",
        "oh", "quick", "develop", "ocean", "warm", "free", "minute", "strong", "special", "mind", "behind", "clear",
        "tail", "produce", "fact", "street", "inch", "nothing", "course", "stay", "wheel", "full", "force", "blue",
        "object", "decide", "surface", "deep", "moon", "island", "foot", "system", "busy", "test", "record", "boat",
        "common", "gold", "possible", "plane", "dry", "wonder", "laugh", "thousand", "ago", "ran", "check", "game",
        "shape", "yes", "hot", "miss", "brought", "heat", "snow", "bring", "distant", "fill", "east", "paint", "language",
        "among", "hello", "hi", "thanks", "thank", "please", "sorry", "cat", "sat", "mat", "dog", "am", "i'm", "it's",
        "agent", "stage", "scene", "act", "actor", "theater", "line", "model", "token", "answer", "user", "assistant",
        "system", "message", "chat", "reply", "story", "character", "role", "speak", "said", "asked", "replied",
    ];

    // Words that often start a sentence: also added capitalised.
    private static readonly string[] CapitalisedWords =
    [
        "the", "a", "i'm", "it", "it's", "you", "he", "she", "we", "they", "this", "that", "what", "how", "why", "when",
        "where", "who", "there", "then", "if", "in", "on", "and", "but", "so", "my", "yes", "no", "hello", "hi", "thanks",
        "please", "sorry", "one", "all", "some", "as", "at", "for", "of", "to", "is", "do", "can", "let", "well", "oh",
        "now", "not", "good", "great", "here", "after", "before", "once", "today", "our", "your", "his", "her",
    ];

    // Frequent character pairs and word endings, without the space marker.
    private static readonly string[] Subwords =
    [
        "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te", "of", "ed", "is", "it", "al",
        "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou", "io", "le", "ve", "co", "me", "de", "hi", "ri", "ro", "ic",
        "ne", "ea", "ra", "ce", "li", "ch", "ll", "be", "ma", "si", "om", "ur", "ing", "ion", "tion", "ment", "ness",
        "able", "ly", "est", "ers", "ous", "ive", "ity", "ted", "ter", "ent", "ence", "ance", "ful", "less", "ed", "es",
        "'s", "'t", "'re", "'ll", "'ve", "'m", "'d", "...", "--",
    ];

    private static readonly Lazy<SpmVocabulary> Natural = new(Build);

    private static readonly Lazy<SpmVocabulary> Chat = new(() => new SpmVocabulary(
        [.. Natural.Value.Tokens, .. ChatMarkers],
        [.. Natural.Value.Scores, .. ChatMarkers.Select(_ => 0f)],
        [.. Natural.Value.TokenTypes, .. ChatMarkers.Select(_ => SpmTokenType.Control)]));

    /// <summary>
    /// Returns the vocabulary, padded with unused <c>&lt;padN&gt;</c> tokens to <paramref name="padToSize"/> entries
    /// when given (the natural size is a little over a thousand tokens).
    /// </summary>
    /// <param name="padToSize">Entries to pad to; null for the natural size.</param>
    /// <param name="chatMarkers">Append <see cref="ChatMarkers"/> as control tokens after the natural tokens (before any padding).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="padToSize"/> is below the natural size.</exception>
    public static SpmVocabulary Create(int? padToSize = null, bool chatMarkers = false)
    {
        var natural = chatMarkers ? Chat.Value : Natural.Value;
        if (padToSize is not { } size || size == natural.Count)
        {
            return natural;
        }

        if (size < natural.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(padToSize), size, $"The synthetic vocabulary already has {natural.Count} tokens.");
        }

        var tokens = new List<string>(size);
        var scores = new List<float>(size);
        var types = new List<SpmTokenType>(size);
        tokens.AddRange(natural.Tokens);
        scores.AddRange(natural.Scores);
        types.AddRange(natural.TokenTypes);
        var lowest = natural.Scores.Min();
        for (var id = natural.Count; id < size; id++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<pad{id}>"));
            scores.Add(lowest - 1 - (id - natural.Count));
            types.Add(SpmTokenType.Unused);
        }

        return new SpmVocabulary(tokens, scores, types);
    }

    private static SpmVocabulary Build()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<SpmTokenType> { SpmTokenType.Unknown, SpmTokenType.Control, SpmTokenType.Control };
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"));
            types.Add(SpmTokenType.Byte);
        }

        var scores = new List<float>(new float[tokens.Count]);

        // Multi-character pieces: each word with every prefix of it, so "▁the" is reached as ▁+t, ▁t+h, ▁th+e.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pieces = new List<(string Piece, bool Marked, int Order)>();
        void AddWithPrefixes(string piece, bool marked)
        {
            for (var length = 2; length <= piece.Length; length++)
            {
                var prefix = piece[..length];
                if (seen.Add(prefix))
                {
                    pieces.Add((prefix, marked, pieces.Count));
                }
            }
        }

        foreach (var word in Words)
        {
            AddWithPrefixes(SpaceMarker + word, marked: true);
        }

        foreach (var word in CapitalisedWords)
        {
            AddWithPrefixes(SpaceMarker + char.ToUpperInvariant(word[0]) + word[1..], marked: true);
        }

        foreach (var subword in Subwords)
        {
            AddWithPrefixes(subword, marked: false);
        }

        // Longer pieces score higher, and at equal length word starts beat inner pairs: a word's prefix chain then
        // always wins over the pairs inside it, so whole words survive the greedy merging.
        pieces.Sort((x, y) => x.Piece.Length != y.Piece.Length
            ? y.Piece.Length.CompareTo(x.Piece.Length)
            : x.Marked != y.Marked ? (x.Marked ? -1 : 1) : x.Order.CompareTo(y.Order));

        var rank = 0;
        foreach (var (piece, _, _) in pieces)
        {
            tokens.Add(piece);
            scores.Add(-rank++);
            types.Add(SpmTokenType.Normal);
        }

        // Single characters: the space marker and printable ASCII except the space itself.
        tokens.Add(SpaceMarker);
        scores.Add(-rank++);
        types.Add(SpmTokenType.Normal);
        for (var c = '!'; c <= '~'; c++)
        {
            tokens.Add(c.ToString());
            scores.Add(-rank++);
            types.Add(SpmTokenType.Normal);
        }

        return new SpmVocabulary(tokens, scores, types);
    }
}

/// <summary>
/// Writes llama-architecture GGUF models with the shape of a real model and deterministic pseudo-random weights.
/// llama.cpp loads and runs them like any other model; the text they produce is nonsense, but it depends on the seed
/// and costs what the real model's would.
/// </summary>
public static class SyntheticModel
{
    /// <summary>The ChatML template (llama.cpp recognises it by its <c>&lt;|im_start|&gt;</c>).</summary>
    public const string ChatTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Values generated from one seed before the generator is re-seeded; lets any chunk be produced independently.</summary>
    private const int StreamLength = 4096;

    private static readonly string[] BlockTensorSuffixes =
        ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"];

    /// <summary>
    /// Writes the model to <paramref name="path"/> (via <c>path.partial</c>). Norm weights are F32 ones; every matrix is
    /// stored as <paramref name="weightType"/>, uniformly random with variance 1/fan-in.
    /// </summary>
    /// <exception cref="ArgumentException">The shape's dimensions do not fit together or the type's block size.</exception>
    public static void Write(string path, SyntheticModelShape shape, GgmlType weightType, int seed = 1234, IProgress<double>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CreateWriter(shape, weightType, seed).WriteTo(path, progress);
    }

    /// <summary>Names of the tensors a model of <paramref name="shape"/> holds, in file order.</summary>
    public static IReadOnlyList<string> TensorNames(SyntheticModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var names = new List<string> { "token_embd.weight" };
        for (var i = 0; i < shape.BlockCount; i++)
        {
            foreach (var suffix in BlockTensorSuffixes)
            {
                names.Add(string.Create(CultureInfo.InvariantCulture, $"blk.{i}.{suffix}.weight"));
            }
        }

        names.Add("output_norm.weight");
        names.Add("output.weight");
        return names;
    }

    private static GgufWriter CreateWriter(SyntheticModelShape shape, GgmlType weightType, int seed)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Validate(shape, weightType);
        var vocabulary = SyntheticVocabulary.Create(shape.PaddedVocabularySize, shape.ChatVocabulary);
        var writer = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("general.name", $"agent-theater synthetic {shape.Name}")
            .Add("general.file_type", GgmlTypeInfo.FileType(weightType))
            .Add("llama.context_length", (uint)shape.ContextLength)
            .Add("llama.embedding_length", (uint)shape.EmbeddingLength)
            .Add("llama.block_count", (uint)shape.BlockCount)
            .Add("llama.feed_forward_length", (uint)shape.FeedForwardLength)
            .Add("llama.attention.head_count", (uint)shape.HeadCount)
            .Add("llama.attention.head_count_kv", (uint)shape.HeadCountKv)
            .Add("llama.rope.dimension_count", (uint)shape.HeadDimension)
            .Add("llama.rope.freq_base", shape.RopeFreqBase)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("llama.vocab_size", (uint)vocabulary.Count)
            .Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", vocabulary.Tokens)
            .Add("tokenizer.ggml.scores", vocabulary.Scores)
            .Add("tokenizer.ggml.token_type", vocabulary.TokenTypes.Select(t => (int)t).ToArray())
            .Add("tokenizer.ggml.bos_token_id", (uint)SyntheticVocabulary.BosId)
            .Add("tokenizer.ggml.eos_token_id", (uint)SyntheticVocabulary.EosId)
            .Add("tokenizer.ggml.unknown_token_id", (uint)SyntheticVocabulary.UnknownId)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false)
            .Add("tokenizer.chat_template", ChatTemplate);
        if (shape.ChatVocabulary)
        {
            // Like the BPE vocabularies chat models mostly have: a rendered prompt decodes back to exactly its text.
            writer.Add("tokenizer.ggml.add_space_prefix", false);
        }
        else
        {
            // Ours: auto picks the script format although the ChatML template would be recognised.
            writer.Add(PromptFormats.MetadataKey, "script");
        }

        long embd = shape.EmbeddingLength, kv = shape.KvEmbeddingLength, ff = shape.FeedForwardLength, vocab = vocabulary.Count;
        var tensorIndex = 0;
        void Matrix(string name, long columns, long rows, float scale) =>
            writer.AddTensor(name, [columns, rows], weightType, Uniform(TensorSeed(seed, tensorIndex++), scale));
        void Norm(string name)
        {
            writer.AddTensor(name, [embd], GgmlType.F32, static (_, chunk) => chunk.Fill(1f));
            tensorIndex++;
        }

        // Uniform on [-a, a] has variance a²/3: a = sqrt(3 / fan_in) keeps activations near unit scale.
        var embdScale = MathF.Sqrt(3f / embd);
        Matrix("token_embd.weight", embd, vocab, 1f);
        for (var i = 0; i < shape.BlockCount; i++)
        {
            var block = string.Create(CultureInfo.InvariantCulture, $"blk.{i}.");
            Norm(block + "attn_norm.weight");
            Matrix(block + "attn_q.weight", embd, embd, embdScale);
            Matrix(block + "attn_k.weight", embd, kv, embdScale);
            Matrix(block + "attn_v.weight", embd, kv, embdScale);
            Matrix(block + "attn_output.weight", embd, embd, embdScale);
            Norm(block + "ffn_norm.weight");
            Matrix(block + "ffn_gate.weight", embd, ff, embdScale);
            Matrix(block + "ffn_up.weight", embd, ff, embdScale);
            Matrix(block + "ffn_down.weight", ff, embd, MathF.Sqrt(3f / ff));
        }

        Norm("output_norm.weight");

        // Logits with a standard deviation near 3: peaked enough that greedy decoding is decisive.
        Matrix("output.weight", embd, vocab, 3 * embdScale);
        return writer;
    }

    private static void Validate(SyntheticModelShape shape, GgmlType weightType)
    {
        var block = GgmlTypeInfo.BlockSize(weightType);
        if (shape.EmbeddingLength <= 0 || shape.BlockCount <= 0 || shape.FeedForwardLength <= 0 || shape.HeadCount <= 0
            || shape.HeadCountKv <= 0 || shape.ContextLength <= 0)
        {
            throw new ArgumentException($"Synthetic model shape '{shape.Name}' has a dimension that is not positive.", nameof(shape));
        }

        if (shape.EmbeddingLength % shape.HeadCount != 0 || shape.HeadCount % shape.HeadCountKv != 0)
        {
            throw new ArgumentException(
                $"Synthetic model shape '{shape.Name}': {shape.EmbeddingLength} wide with {shape.HeadCount} heads and {shape.HeadCountKv} kv heads does not divide evenly.",
                nameof(shape));
        }

        if (shape.EmbeddingLength % block != 0 || shape.FeedForwardLength % block != 0)
        {
            throw new ArgumentException(
                $"Synthetic model shape '{shape.Name}': widths {shape.EmbeddingLength} and {shape.FeedForwardLength} must be multiples of the {weightType} block size {block}.",
                nameof(shape));
        }
    }

    private static ulong TensorSeed(int seed, int tensorIndex) =>
        SeedMixer.SplitMix64(((ulong)(uint)seed << 32) ^ (ulong)(uint)tensorIndex ^ 0x5DEECE66DUL);

    private static GgufWriter.TensorFill Uniform(ulong tensorSeed, float scale) =>
        (start, chunk) => FillUniform(tensorSeed, scale, start, chunk);

    /// <summary>
    /// Fills <paramref name="chunk"/> with the values at <paramref name="start"/>.. of a tensor: uniform on
    /// [-scale, scale). Element i comes from an xorshift64* stream seeded by (tensor seed, i / StreamLength), so the
    /// values do not depend on how the writer splits the tensor into chunks.
    /// </summary>
    private static void FillUniform(ulong tensorSeed, float scale, long start, Span<float> chunk)
    {
        var twice = 2f * scale;
        var index = start;
        var done = 0;
        while (done < chunk.Length)
        {
            var stream = index / StreamLength;
            var offset = (int)(index % StreamLength);
            var count = Math.Min(StreamLength - offset, chunk.Length - done);
            var state = SeedMixer.SplitMix64(tensorSeed + ((ulong)stream * SeedMixer.GoldenGamma)) | 1;
            for (var skip = 0; skip < offset; skip++)
            {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
            }

            var span = chunk.Slice(done, count);
            for (var i = 0; i < span.Length; i++)
            {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;

                // The top 23 bits of the xorshift64* output as a mantissa: a float in [1, 2).
                var bits = 0x3F800000u | (uint)((state * 0x2545F4914F6CDD1DUL) >> 41);
                span[i] = (BitConverter.UInt32BitsToSingle(bits) - 1.5f) * twice;
            }

            done += count;
            index += count;
        }
    }
}
