namespace AgentTheater.Inference.Gguf;

/// <summary>The ggml tensor types the writer can produce (values from ggml.h).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}

/// <summary>Block sizes and byte counts of the ggml tensor types.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Values per quantisation block (1 for unquantised types).</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 => 1,
        GgmlType.Q4_0 or GgmlType.Q8_0 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported ggml type."),
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        GgmlType.Q4_0 => 2 + 16,
        GgmlType.Q8_0 => 2 + 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported ggml type."),
    };

    /// <summary>Bytes taken by <paramref name="elements"/> values of <paramref name="type"/>.</summary>
    public static long ByteCount(GgmlType type, long elements)
    {
        var block = BlockSize(type);
        if (elements % block != 0)
        {
            throw new ArgumentException($"{elements} elements is not a multiple of the {type} block size {block}.", nameof(elements));
        }

        return elements / block * BlockBytes(type);
    }

    /// <summary>The GGUF <c>general.file_type</c> (llama_ftype) of a model whose matrices are all <paramref name="type"/>.</summary>
    public static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,   // LLAMA_FTYPE_ALL_F32
        GgmlType.F16 => 1,   // LLAMA_FTYPE_MOSTLY_F16
        GgmlType.Q4_0 => 2,  // LLAMA_FTYPE_MOSTLY_Q4_0
        GgmlType.Q8_0 => 7,  // LLAMA_FTYPE_MOSTLY_Q8_0
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported weight type."),
    };

    /// <summary>Parses "f32", "f16", "q8_0", "q4_0" (case-insensitive).</summary>
    public static GgmlType Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        _ => throw new ArgumentException($"Unknown tensor type '{text}': expected f32, f16, q8_0 or q4_0.", nameof(text)),
    };
}
