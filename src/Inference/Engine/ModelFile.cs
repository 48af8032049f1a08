using System.Collections.Frozen;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

/// <summary>
/// The check a model file passes before a silo starts on it. In order: the file exists and can be read; it starts with
/// the GGUF magic and a version llama.cpp reads; its header, metadata and tensor table parse, and every tensor's data
/// lies inside the file at the offset llama.cpp expects (<see cref="GgufFile.Read"/>); <c>general.architecture</c> names a
/// model llama.cpp b7347 loads and plays; the vocabulary arrays llama.cpp asserts on are well formed; then llama.cpp loads
/// it. Each failure is one <see cref="ModelFileException"/>, whose message is one line naming the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The architectures of llama.cpp b7347 (src/llama-arch.cpp, LLM_ARCH_NAMES).</summary>
    private static readonly FrozenSet<string> Known = FrozenSet.Create(StringComparer.Ordinal,
    [
        "clip", "llama", "llama4", "deci", "falcon", "grok", "gpt2", "gptj", "gptneox", "mpt", "baichuan", "starcoder", "refact",
        "bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2", "jina-bert-v3", "bloom", "stablelm", "qwen",
        "qwen2", "qwen2moe", "qwen2vl", "qwen3", "qwen3moe", "qwen3next", "qwen3vl", "qwen3vlmoe", "phi2", "phi3", "phimoe",
        "plamo", "plamo2", "codeshell", "orion", "internlm2", "minicpm", "minicpm3", "gemma", "gemma2", "gemma3", "gemma3n",
        "gemma-embedding", "starcoder2", "mamba", "mamba2", "jamba", "falcon-h1", "xverse", "command-r", "cohere2", "dbrx",
        "olmo", "olmo2", "olmoe", "openelm", "arctic", "deepseek", "deepseek2", "chatglm", "glm4", "glm4moe", "bitnet", "t5",
        "t5encoder", "jais", "nemotron", "nemotron_h", "exaone", "exaone4", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7",
        "granite", "granitemoe", "granitehybrid", "chameleon", "wavtokenizer-dec", "plm", "bailingmoe", "bailingmoe2", "dots1",
        "arcee", "afmoe", "ernie4_5", "ernie4_5-moe", "hunyuan-moe", "hunyuan-dense", "smollm3", "gpt-oss", "lfm2", "lfm2moe",
        "dream", "smallthinker", "llada", "llada-moe", "seed_oss", "grovemoe", "apertus", "minimax-m2", "cogvlm", "rnd1",
        "pangu-embedded", "mistral3",
    ]);

    /// <summary>Architectures llama.cpp knows that cannot play a scene, and why.</summary>
    private static readonly FrozenDictionary<string, string> Unplayable = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["clip"] = "a vision projector, not a language model",
        ["bert"] = "an embedding model: it does not generate text",
        ["nomic-bert"] = "an embedding model: it does not generate text",
        ["nomic-bert-moe"] = "an embedding model: it does not generate text",
        ["neo-bert"] = "an embedding model: it does not generate text",
        ["jina-bert-v2"] = "an embedding model: it does not generate text",
        ["jina-bert-v3"] = "an embedding model: it does not generate text",
        ["gemma-embedding"] = "an embedding model: it does not generate text",
        ["t5encoder"] = "an encoder: it does not generate text",
        ["t5"] = "an encoder-decoder model: the pool only decodes",
        ["wavtokenizer-dec"] = "an audio decoder, not a language model",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The architectures a model may have: those llama.cpp b7347 loads that generate text.</summary>
    public static IReadOnlySet<string> Architectures { get; } = Known.Where(a => !Unplayable.ContainsKey(a)).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Every check, the last one llama.cpp loading the file (on the CPU, weights mapped and not copied, then freed),
    /// so a file that passes is one the pool can load.
    /// </summary>
    /// <param name="path">The model file.</param>
    /// <param name="nativeDirectory">Folder to load llama.cpp from if it is not loaded yet (null: the automatic choice).</param>
    /// <returns>The file's header.</returns>
    /// <exception cref="ModelFileException">The file fails a check; <see cref="ModelFileException.Kind"/> says which.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="nativeDirectory"/> holds no llama.cpp.</exception>
    public static GgufFile Check(string path, string? nativeDirectory = null)
    {
        var header = CheckHeader(path);
        LlamaLibrary.Initialize(nativeDirectory);
        LlamaModel.CheckLoads(header.Path);
        return header;
    }

    /// <summary>Every check up to llama.cpp's load: what can be told from the file without llama.cpp.</summary>
    /// <param name="path">The model file.</param>
    /// <returns>The file's header (its <see cref="GgufFile.Path"/> is the full path).</returns>
    /// <exception cref="ModelFileException">The file fails a check; <see cref="ModelFileException.Kind"/> says which.</exception>
    public static GgufFile CheckHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new ModelFileException(full, ModelFileProblem.Unreadable, "a folder, not a model file.");
        }

        GgufFile header;
        try
        {
            header = GgufFile.Read(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFileException(full, ModelFileProblem.NotFound, "model file not found.", e);
        }
        catch (GgufFormatException e)
        {
            throw new ModelFileException(full, e.Kind, e.Problem, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(full, ModelFileProblem.Unreadable, $"cannot be read: {e.Message}", e);
        }

        CheckArchitecture(header);
        CheckVocabulary(header);
        return header;
    }

    private static void CheckArchitecture(GgufFile header)
    {
        var problem = header.Metadata.TryGetValue("general.architecture", out var value) ? value switch
        {
            not string => "general.architecture is not a string.",
            string a when Unplayable.TryGetValue(a, out var why) => $"architecture '{a}' is {why}.",
            string a when !Known.Contains(a) => $"architecture '{Printable(a)}' is not one llama.cpp b7347 loads.",
            _ => null,
        } : "general.architecture is missing: nothing says what model this is.";
        if (problem is not null)
        {
            throw new ModelFileException(header.Path, ModelFileProblem.UnsupportedArchitecture, problem);
        }
    }

    /// <summary>
    /// The vocabulary arrays llama.cpp b7347 reads without checking them (src/llama-vocab.cpp): a wrong type or a short
    /// array is a failed assertion (the process aborts) or a read past the array, and so is a duplicate token.
    /// </summary>
    private static void CheckVocabulary(GgufFile header)
    {
        // Without a vocabulary llama.cpp refuses the file itself, with its reason.
        if (!header.Metadata.TryGetValue("tokenizer.ggml.tokens", out var value))
        {
            return;
        }

        if (value is not object[] tokens || tokens.Any(t => t is not string))
        {
            throw Corrupt(header, "tokenizer.ggml.tokens is not an array of strings.");
        }

        // llama.cpp keys its vocabulary by the token's bytes; text that decoded with a replacement character may come
        // from different bytes, so only exact UTF-8 is compared.
        var first = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            var text = (string)tokens[i];
            text = text.Length == 0 ? $"[EMPTY_{i}]" : text;
            if (!text.Contains('\uFFFD', StringComparison.Ordinal) && !first.TryAdd(text, i))
            {
                throw Corrupt(header, $"tokens #{first[text]} and #{i} of tokenizer.ggml.tokens are the same text.");
            }
        }

        RequireArray(header, "tokenizer.ggml.scores", tokens.Length, v => v is float, "float32 values");
        RequireArray(header, "tokenizer.ggml.token_type", tokens.Length, v => v is int or uint, "int32 values");
        RequireArray(header, "tokenizer.ggml.merges", 0, v => v is string, "strings");
        RequireArray(header, "tokenizer.ggml.precompiled_charsmap", 0, v => v is byte or sbyte, "bytes");
    }

    /// <summary>If <paramref name="key"/> is present, it must be an array of at least <paramref name="count"/> values of one type.</summary>
    private static void RequireArray(GgufFile header, string key, int count, Func<object, bool> isElement, string elements)
    {
        if (header.Metadata.TryGetValue(key, out var value) && (value is not object[] array || array.Length < count || !array.All(isElement)))
        {
            throw Corrupt(header, count > 0 ? $"{key} is not an array of at least {count} {elements}." : $"{key} is not an array of {elements}.");
        }
    }

    private static ModelFileException Corrupt(GgufFile header, string problem) => new(header.Path, ModelFileProblem.Corrupt, $"corrupt header: {problem}");

    private static string Printable(string text) => new([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
}
