using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Gguf;

/// <summary>Hyperparameters of a model the project's trainer wrote (tools/model/train.py, <c>config.json</c>).</summary>
public sealed record TrainedModelConfig(
    [property: JsonPropertyName("vocab_size")] int VocabularySize,
    [property: JsonPropertyName("embedding_length")] int EmbeddingLength,
    [property: JsonPropertyName("block_count")] int BlockCount,
    [property: JsonPropertyName("head_count")] int HeadCount,
    [property: JsonPropertyName("head_count_kv")] int HeadCountKv,
    [property: JsonPropertyName("feed_forward_length")] int FeedForwardLength,
    [property: JsonPropertyName("context_length")] int ContextLength,
    [property: JsonPropertyName("rope_freq_base")] float RopeFreqBase,
    [property: JsonPropertyName("rms_epsilon")] float RmsEpsilon);

/// <summary>The trainer's tokenizer (<c>tokenizer.json</c>): a SentencePiece-style vocabulary llama.cpp runs as is.</summary>
public sealed record TrainedTokenizer(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("add_space_prefix")] bool AddSpacePrefix,
    [property: JsonPropertyName("bos_token_id")] int BosId,
    [property: JsonPropertyName("eos_token_id")] int EosId,
    [property: JsonPropertyName("unknown_token_id")] int UnknownId,
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("scores")] IReadOnlyList<float> Scores,
    [property: JsonPropertyName("token_types")] IReadOnlyList<int> TokenTypes);

/// <summary>What goes into the GGUF besides the weights: its name, model card and prompt format.</summary>
/// <param name="Name">general.name.</param>
/// <param name="Description">general.description: one paragraph.</param>
/// <param name="PromptFormat">How prompts look (agent_theater.prompt_format).</param>
/// <param name="ModelCard">The model card, markdown (agent_theater.model_card); null for none.</param>
/// <param name="TrainingSummary">The trainer's figures, JSON (agent_theater.training); null for none.</param>
public sealed record TrainedModelCard(string Name, string Description, string PromptFormat, string? ModelCard, string? TrainingSummary);

/// <summary>
/// Packs a model trained by tools/model/train.py (a folder with <c>config.json</c>, <c>tokenizer.json</c> and
/// <c>model.safetensors</c> whose tensors already carry their GGUF names) into a llama-architecture GGUF. Matrices are
/// stored as the requested type (Q8_0 by default), norms as F32. The output weights are tied to the embedding, so the
/// file has no <c>output.weight</c> and llama.cpp reuses <c>token_embd.weight</c>.
/// </summary>
public static class TrainedModelPacker
{
    /// <summary>The chat template written to tokenizer.chat_template: messages in the theater's "Speaker: text" lines.</summary>
    public const string ChatTemplate =
        "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
        + "{% else %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endif %}{% endfor %}"
        + "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

    private static readonly JsonSerializerOptions Json = new() { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads the trainer's folder and writes the GGUF to <paramref name="outputPath"/> (via a partial file).</summary>
    /// <exception cref="GgufFormatException">A file is missing, malformed, or does not fit the configuration (the message names it).</exception>
    public static void Pack(string folder, string outputPath, TrainedModelCard card, GgmlType weightType = GgmlType.Q8_0, IProgress<double>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(card);
        var config = ReadJson<TrainedModelConfig>(Path.Combine(folder, "config.json"));
        var tokenizer = ReadJson<TrainedTokenizer>(Path.Combine(folder, "tokenizer.json"));
        var tensors = SafeTensors.Read(Path.Combine(folder, "model.safetensors"));
        CreateWriter(folder, config, tokenizer, tensors, card, weightType).WriteTo(outputPath, progress);
    }

    /// <summary>The tensors a trained model of <paramref name="config"/> holds, with their PyTorch shapes ([out, in]).</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedTensors(TrainedModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long d = config.EmbeddingLength, kv = (long)config.EmbeddingLength / config.HeadCount * config.HeadCountKv, ff = config.FeedForwardLength;
        yield return ("token_embd.weight", [config.VocabularySize, d]);
        for (var i = 0; i < config.BlockCount; i++)
        {
            var block = $"blk.{i}.";
            yield return (block + "attn_norm.weight", [d]);
            yield return (block + "attn_q.weight", [d, d]);
            yield return (block + "attn_k.weight", [kv, d]);
            yield return (block + "attn_v.weight", [kv, d]);
            yield return (block + "attn_output.weight", [d, d]);
            yield return (block + "ffn_norm.weight", [d]);
            yield return (block + "ffn_gate.weight", [ff, d]);
            yield return (block + "ffn_up.weight", [ff, d]);
            yield return (block + "ffn_down.weight", [d, ff]);
        }

        yield return ("output_norm.weight", [d]);
    }

    private static GgufWriter CreateWriter(string folder, TrainedModelConfig config, TrainedTokenizer tokenizer, SafeTensors tensors, TrainedModelCard card, GgmlType weightType)
    {
        if (tokenizer.Model != "llama")
        {
            throw new GgufFormatException(Path.Combine(folder, "tokenizer.json"), $"model '{tokenizer.Model}' is not supported; the trainer writes 'llama' (SentencePiece-style).");
        }

        if (tokenizer.Tokens.Count != config.VocabularySize || tokenizer.Scores.Count != tokenizer.Tokens.Count || tokenizer.TokenTypes.Count != tokenizer.Tokens.Count)
        {
            throw new GgufFormatException(
                Path.Combine(folder, "tokenizer.json"),
                $"holds {tokenizer.Tokens.Count} tokens, {tokenizer.Scores.Count} scores and {tokenizer.TokenTypes.Count} types; config.json says vocab_size {config.VocabularySize}.");
        }

        if (weightType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0))
        {
            throw new ArgumentOutOfRangeException(nameof(weightType), weightType, "Packs F32, F16 or Q8_0.");
        }

        var writer = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("general.name", card.Name)
            .Add("general.description", card.Description)
            .Add("general.file_type", GgmlTypeInfo.FileType(weightType))
            .Add("general.quantization_version", 2u)
            .Add("llama.context_length", (uint)config.ContextLength)
            .Add("llama.embedding_length", (uint)config.EmbeddingLength)
            .Add("llama.block_count", (uint)config.BlockCount)
            .Add("llama.feed_forward_length", (uint)config.FeedForwardLength)
            .Add("llama.attention.head_count", (uint)config.HeadCount)
            .Add("llama.attention.head_count_kv", (uint)config.HeadCountKv)
            .Add("llama.rope.dimension_count", (uint)(config.EmbeddingLength / config.HeadCount))
            .Add("llama.rope.freq_base", config.RopeFreqBase)
            .Add("llama.attention.layer_norm_rms_epsilon", config.RmsEpsilon)
            .Add("llama.vocab_size", (uint)config.VocabularySize)
            .Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", tokenizer.Tokens)
            .Add("tokenizer.ggml.scores", tokenizer.Scores)
            .Add("tokenizer.ggml.token_type", tokenizer.TokenTypes)
            .Add("tokenizer.ggml.bos_token_id", (uint)tokenizer.BosId)
            .Add("tokenizer.ggml.eos_token_id", (uint)tokenizer.EosId)
            .Add("tokenizer.ggml.unknown_token_id", (uint)tokenizer.UnknownId)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false)
            .Add("tokenizer.ggml.add_space_prefix", tokenizer.AddSpacePrefix)
            .Add("tokenizer.chat_template", ChatTemplate)
            .Add(PromptFormats.MetadataKey, card.PromptFormat);
        if (card.ModelCard is not null)
        {
            writer.Add("agent_theater.model_card", card.ModelCard);
        }

        if (card.TrainingSummary is not null)
        {
            writer.Add("agent_theater.training", card.TrainingSummary);
        }

        var expected = ExpectedTensors(config).ToList();
        var unexpected = tensors.Names.Except(expected.Select(e => e.Name)).ToList();
        if (unexpected.Count > 0)
        {
            throw new GgufFormatException(Path.Combine(folder, "model.safetensors"), $"tensor '{unexpected[0]}' is not part of a llama model of this configuration.");
        }

        foreach (var (name, shape) in expected)
        {
            var tensor = tensors.Get(name)
                ?? throw new GgufFormatException(Path.Combine(folder, "model.safetensors"), $"tensor '{name}' is missing.");
            if (!tensor.Shape.SequenceEqual(shape))
            {
                throw new GgufFormatException(
                    Path.Combine(folder, "model.safetensors"),
                    $"tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], config.json implies [{string.Join(", ", shape)}].");
            }

            // PyTorch [out, in] row-major is ggml's ne = [in, out].
            var ggmlShape = shape.Reverse().ToArray();
            var type = shape.Length == 1 ? GgmlType.F32 : weightType;
            writer.AddTensor(name, ggmlShape, type, tensors.Values(name));
        }

        return writer;
    }

    private static T ReadJson<T>(string path)
    {
        if (!File.Exists(path))
        {
            throw new GgufFormatException(path, "missing: expected the trainer's output folder (tools/model/train.py).");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json)
                ?? throw new GgufFormatException(path, "empty");
        }
        catch (JsonException e)
        {
            throw new GgufFormatException(path, e.Message, e);
        }
    }
}

/// <summary>A read-only view of a safetensors file holding F32 tensors (the format PyTorch tools exchange weights in).</summary>
internal sealed class SafeTensors
{
    private readonly string _path;
    private readonly long _dataStart;
    private readonly Dictionary<string, (long[] Shape, long Begin, long End)> _entries;

    private SafeTensors(string path, long dataStart, Dictionary<string, (long[] Shape, long Begin, long End)> entries, List<string> names)
    {
        _path = path;
        _dataStart = dataStart;
        _entries = entries;
        Names = names;
    }

    public IReadOnlyList<string> Names { get; }

    public static SafeTensors Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new GgufFormatException(path, "missing: expected the trainer's output folder (tools/model/train.py).");
        }

        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8)
        {
            throw new GgufFormatException(path, "too short for a safetensors header.");
        }

        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > 100_000_000 || headerLength > stream.Length - 8)
        {
            throw new GgufFormatException(path, $"safetensors header length {headerLength} does not fit the file.");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var entries = new Dictionary<string, (long[], long, long)>();
        var names = new List<string>();
        using var json = JsonDocument.Parse(header);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                continue;
            }

            var dtype = property.Value.GetProperty("dtype").GetString();
            if (dtype != "F32")
            {
                throw new GgufFormatException(path, $"tensor '{property.Name}' is {dtype}; only F32 is read.");
            }

            var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[1] - offsets[0] != shape.Aggregate(1L, (a, b) => a * b) * 4 || 8 + headerLength + offsets[1] > stream.Length)
            {
                throw new GgufFormatException(path, $"tensor '{property.Name}' data offsets do not match its shape or the file.");
            }

            entries[property.Name] = (shape, offsets[0], offsets[1]);
            names.Add(property.Name);
        }

        return new SafeTensors(path, 8 + headerLength, entries, names);
    }

    public (long[] Shape, long Begin, long End)? Get(string name) => _entries.TryGetValue(name, out var e) ? e : null;

    public float[] Values(string name)
    {
        var (_, begin, end) = _entries[name];
        var values = new float[(end - begin) / 4];
        using var stream = File.OpenRead(_path);
        stream.Position = _dataStart + begin;
        stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
