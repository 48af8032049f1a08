namespace AgentTheater.Inference.Gguf;

/// <summary>The ggml tensor types the writer can produce (values from ggml.h).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}

/// <summary>How a ggml tensor type stores its values.</summary>
/// <param name="Name">ggml's name for the type, e.g. <c>q4_K</c>.</param>
/// <param name="BlockSize">Values per block (1 for unquantised types).</param>
/// <param name="BlockBytes">Bytes per block.</param>
public readonly record struct GgmlTypeLayout(string Name, int BlockSize, int BlockBytes);

/// <summary>Block sizes and byte counts of the ggml tensor types.</summary>
public static class GgmlTypeInfo
{
    // ggml's type_traits in llama.cpp b7347 (GGML_TYPE_COUNT = 40): the types a GGUF tensor may have. Gaps are types
    // ggml removed (4, 5, 31-33, 36-38); their block size is 0 there and gguf.cpp refuses them.
    private static readonly Dictionary<uint, GgmlTypeLayout> Layouts = new()
    {
        [0] = new("f32", 1, 4),
        [1] = new("f16", 1, 2),
        [2] = new("q4_0", 32, 18),
        [3] = new("q4_1", 32, 20),
        [6] = new("q5_0", 32, 22),
        [7] = new("q5_1", 32, 24),
        [8] = new("q8_0", 32, 34),
        [9] = new("q8_1", 32, 36),
        [10] = new("q2_K", 256, 84),
        [11] = new("q3_K", 256, 110),
        [12] = new("q4_K", 256, 144),
        [13] = new("q5_K", 256, 176),
        [14] = new("q6_K", 256, 210),
        [15] = new("q8_K", 256, 292),
        [16] = new("iq2_xxs", 256, 66),
        [17] = new("iq2_xs", 256, 74),
        [18] = new("iq3_xxs", 256, 98),
        [19] = new("iq1_s", 256, 50),
        [20] = new("iq4_nl", 32, 18),
        [21] = new("iq3_s", 256, 110),
        [22] = new("iq2_s", 256, 82),
        [23] = new("iq4_xs", 256, 136),
        [24] = new("i8", 1, 1),
        [25] = new("i16", 1, 2),
        [26] = new("i32", 1, 4),
        [27] = new("i64", 1, 8),
        [28] = new("f64", 1, 8),
        [29] = new("iq1_m", 256, 56),
        [30] = new("bf16", 1, 2),
        [34] = new("tq1_0", 256, 54),
        [35] = new("tq2_0", 256, 66),
        [39] = new("mxfp4", 32, 17),
    };

    /// <summary>
    /// The layout of ggml type <paramref name="type"/> as llama.cpp b7347 knows it, or null for a type it does not load
    /// (removed, or past <c>GGML_TYPE_COUNT</c>).
    /// </summary>
    public static GgmlTypeLayout? Layout(uint type) => Layouts.TryGetValue(type, out var layout) ? layout : null;

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
