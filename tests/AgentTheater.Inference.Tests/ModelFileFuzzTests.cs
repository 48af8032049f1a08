using System.Diagnostics;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// Malformed variants of the tiny model (cut short, bits flipped, absurd counts and offsets): every one ends in a
/// <see cref="ModelFileException"/> from our check, or is a file llama.cpp loads or refuses cleanly, and the process lives.
/// Seeded, so a failure reproduces; bounded to a few seconds on two cores.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ModelFileFuzzTests : IDisposable
{
    private const int Seed = 18;
    private readonly byte[] _model;
    private readonly List<GgufSpan> _layout;
    private readonly long _dataEnd;
    private readonly string _path;
    private readonly ITestOutputHelper _output;

    public ModelFileFuzzTests(TinyModelFixture fixture, ITestOutputHelper output)
    {
        _output = output;
        _model = File.ReadAllBytes(fixture.ModelPath);
        _layout = GgufLayout.Of(_model);
        _dataEnd = _layout.Where(s => s.Field == GgufField.TensorData).Max(s => s.End);
        _path = Path.Combine(fixture.Directory, $"fuzz-{Guid.NewGuid():N}.gguf");
    }

    [Fact]
    public void Check_TruncatedAtEverySectionBoundary_FailsOurCheck()
    {
        // The start and the middle of every part: magic, version, counts, each key and value, each tensor's name,
        // dimensions, type and offset, the padding before the data, and each tensor's data; and one byte short.
        var cuts = _layout.SelectMany(s => s.Length > 1 ? [(s.Offset, s), (s.Offset + s.Length / 2, s)] : new[] { (Cut: s.Offset, Span: s) })
            .Append((_dataEnd - 1, _layout[^1]))
            .Where(c => c.Item1 < _dataEnd)
            .DistinctBy(c => c.Item1)
            .ToList();
        Assert.Contains(cuts, c => c.Item2.Field == GgufField.Padding);
        Assert.True(cuts.Count > 200, $"only {cuts.Count} cuts");

        var failures = new List<string>();
        foreach (var (cut, span) in cuts)
        {
            File.WriteAllBytes(_path, _model[..(int)cut]);
            var expected = cut < 4 ? ModelFileProblem.NotGguf : ModelFileProblem.Truncated;
            if (Outcome() is not ModelFileException { } error || error.Kind != expected || !error.Message.StartsWith(_path + ": ", StringComparison.Ordinal))
            {
                failures.Add($"cut at byte {cut} ({span.Field} of {span.Label}): {Describe(Outcome())}, expected {expected}");
            }
        }

        _output.WriteLine($"{cuts.Count} cuts in {_layout.Count} parts");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Check_CutAfterTheLastTensorsData_Passes()
    {
        File.WriteAllBytes(_path, _model[..(int)_dataEnd]);

        Assert.Null(Outcome());
    }

    [Fact]
    public void Check_TruncatedAtRandomOffsets_FailsOurCheck()
    {
        var random = new Random(Seed);
        var failures = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            // Half in the header, where the structure is; half anywhere before the end of the data.
            var cut = i % 2 == 0 ? random.NextInt64(0, _layout.First(s => s.Field == GgufField.Padding).End) : random.NextInt64(0, _dataEnd);
            File.WriteAllBytes(_path, _model[..(int)cut]);
            var expected = cut < 4 ? ModelFileProblem.NotGguf : ModelFileProblem.Truncated;
            if (Outcome() is not ModelFileException { } error || error.Kind != expected)
            {
                failures.Add($"cut at byte {cut}: {Describe(Outcome())}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Check_BitFlipsInStructuralFields_EndTypedAndTheProcessLives()
    {
        var stopwatch = Stopwatch.StartNew();
        var random = new Random(Seed);
        var fields = _layout.Where(s => GgufLayout.Structural.Contains(s.Field)).ToList();
        File.WriteAllBytes(_path, _model);
        var outcomes = new Dictionary<string, int>();
        var failures = new List<string>();
        for (var i = 0; i < 600; i++)
        {
            var span = fields[random.Next(fields.Count)];
            var bit = random.Next((int)span.Length * 8);
            var outcome = WithFlips(Outcome, (span.Offset + bit / 8, 1 << (bit % 8)));
            Count(outcomes, outcome);

            // A flipped length, count, type, shape or offset breaks the header, and our check says so. Two kinds of flip
            // leave a well-formed file: a value type turned into another of the same width (llama.cpp refuses the key's
            // type), and the last tensor's shape shrunk inside the file (llama.cpp refuses the shape).
            var wellFormed = span.Field is GgufField.ValueType or GgufField.Dimension;
            if (outcome is not ModelFileException { } error || (error.Kind == ModelFileProblem.RefusedByLlama && !wellFormed))
            {
                failures.Add($"bit {bit} of {span.Field} of {span.Label}: {Describe(outcome)}");
            }
        }

        _output.WriteLine($"{stopwatch.ElapsedMilliseconds} ms: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Check_RandomBitFlipsInTheHeaderAndTensorTable_EndTypedAndTheProcessLives()
    {
        var stopwatch = Stopwatch.StartNew();
        var random = new Random(Seed + 1);
        var headerEnd = _layout.First(s => s.Field == GgufField.Padding).Offset;
        File.WriteAllBytes(_path, _model);
        var outcomes = new Dictionary<string, int>();
        var failures = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            var flips = Enumerable.Range(0, random.Next(1, 4)).Select(_ => (random.NextInt64(headerEnd), 1 << random.Next(8))).ToArray();
            var outcome = WithFlips(Outcome, flips);
            Count(outcomes, outcome);
            if (outcome is not (null or ModelFileException))
            {
                failures.Add($"bits {string.Join(", ", flips.Select(f => $"{f.Item1}:{f.Item2:X2}"))}: {Describe(outcome)}");
            }
        }

        _output.WriteLine($"{stopwatch.ElapsedMilliseconds} ms: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Headers no writer produces: each fails our check, with the kind named, before llama.cpp sees the file.</summary>
    public static TheoryData<string> AbsurdHeaders =>
    [
        "magic", "version 1", "version 4", "big-endian version", "tensor count 2^63", "key count 2^63", "key length 2^40",
        "string length 2^40", "array count 2^62", "array count 2^22", "array of arrays", "array of unknown type",
        "unknown value type", "tensor name length 2^40", "5 dimensions", "dimension 0", "dimension 2^63",
        "dimensions whose product overflows", "removed tensor type", "tensor type past the last", "tensor offset past the end",
        "tensor offset 2^63", "misaligned tensor offset", "overlapping tensors", "alignment as a string", "alignment 0",
        "alignment 48", "duplicate key", "duplicate tensor name", "tensor name of 64 bytes", "duplicate token",
        "scores shorter than the tokens", "token types as floats", "tokens as integers", "no architecture",
        "an embedding model's architecture", "an unknown architecture", "arrays nested a million deep",
    ];

    [Theory]
    [MemberData(nameof(AbsurdHeaders))]
    public void Check_AbsurdHeader_FailsOurCheckWithItsKind(string name)
    {
        var (bytes, expected) = Mutant(name);
        File.WriteAllBytes(_path, bytes);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.IsType<ModelFileException>(Outcome());
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.True(error.Kind == expected, $"{name}: {error.Kind}, expected {expected}: {error.Message}");
        Assert.True(allocated < 16 << 20, $"{name}: {allocated} bytes allocated");
        Assert.StartsWith(_path + ": ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("a string of 2.5 GB", 8u)]
    [InlineData("an array of 2 billion bytes", 9u)]
    public void Check_HugeClaimInAThreeGigabyteFile_FailsWithoutAllocatingIt(string claim, uint valueType)
    {
        // A sparse file: the claim is smaller than the file, so only the header caps stop the reader allocating it.
        var header = new RawGguf().String("general.architecture", "llama").Key("big", valueType, w =>
        {
            if (valueType == 9u)
            {
                w.Write(0u);
                w.Write(2_000_000_000UL);
            }
            else
            {
                w.Write(2_500_000_000UL);
            }
        }).ToBytes(0);
        using (var file = new FileStream(_path, FileMode.Create))
        {
            file.Write(header);
            file.SetLength(3_000_000_000);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.IsType<ModelFileException>(Outcome());
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.True(error.Kind == ModelFileProblem.Corrupt, $"{claim}: {error.Message}");
        Assert.True(allocated < 1 << 20, $"{claim}: {allocated} bytes allocated");
    }

    public void Dispose() => File.Delete(_path);

    private (byte[] File, ModelFileProblem Expected) Mutant(string name)
    {
        const ModelFileProblem Corrupt = ModelFileProblem.Corrupt;
        var tokens = Span(GgufField.ArrayCount, "tokenizer.ggml.tokens");
        var lastOffset = _layout.Last(s => s.Field == GgufField.TensorOffset);
        return name switch
        {
            "magic" => (Patched(Span(GgufField.Magic), 0x47554747), ModelFileProblem.NotGguf),
            "version 1" => (Patched(Span(GgufField.Version), 1), ModelFileProblem.UnsupportedVersion),
            "version 4" => (Patched(Span(GgufField.Version), 4), ModelFileProblem.UnsupportedVersion),
            "big-endian version" => (Patched(Span(GgufField.Version), 0x03000000), ModelFileProblem.UnsupportedVersion),
            "tensor count 2^63" => (Patched(Span(GgufField.TensorCount), 1UL << 63), Corrupt),
            "key count 2^63" => (Patched(Span(GgufField.KeyCount), 1UL << 63), Corrupt),
            "key length 2^40" => (Patched(Span(GgufField.KeyLength), 1UL << 40), Corrupt),
            "string length 2^40" => (Patched(Span(GgufField.StringLength), 1UL << 40), Corrupt),
            "array count 2^62" => (Patched(tokens, 1UL << 62), Corrupt),
            "array count 2^22" => (Patched(tokens, 1UL << 22), ModelFileProblem.Truncated),
            "array of arrays" => (Patched(Span(GgufField.ArrayElementType, "tokenizer.ggml.tokens"), 9), Corrupt),
            "array of unknown type" => (Patched(Span(GgufField.ArrayElementType, "tokenizer.ggml.tokens"), 13), Corrupt),
            "unknown value type" => (Patched(Span(GgufField.ValueType), 13), Corrupt),
            "tensor name length 2^40" => (Patched(Span(GgufField.TensorNameLength), 1UL << 40), Corrupt),
            "5 dimensions" => (Patched(Span(GgufField.DimensionCount), 5), Corrupt),
            "dimension 0" => (Patched(Span(GgufField.Dimension, "output.weight dim 1"), 0), Corrupt),
            "dimension 2^63" => (Patched(Span(GgufField.Dimension), 1UL << 63), Corrupt),
            "dimensions whose product overflows" => (Patched(Patched(Span(GgufField.Dimension, "token_embd.weight dim 0"), 1UL << 32), Span(GgufField.Dimension, "token_embd.weight dim 1"), 1UL << 32), Corrupt),
            "removed tensor type" => (Patched(Span(GgufField.TensorType), 31), Corrupt),
            "tensor type past the last" => (Patched(Span(GgufField.TensorType), 40), Corrupt),
            "tensor offset past the end" => (Patched(lastOffset, (ulong)(_model.Length + 32) / 32 * 32), Corrupt),
            "tensor offset 2^63" => (Patched(lastOffset, 1UL << 63), Corrupt),
            "misaligned tensor offset" => (Patched(lastOffset, Read(lastOffset) + 16), Corrupt),
            "overlapping tensors" => (Patched(lastOffset, Read(lastOffset) - 32), Corrupt),
            "alignment as a string" => (Raw().String("general.alignment", "32").ToBytes(32), Corrupt),
            "alignment 0" => (Raw().Key("general.alignment", 4, w => w.Write(0u)).ToBytes(32), Corrupt),
            "alignment 48" => (Raw().Key("general.alignment", 4, w => w.Write(48u)).ToBytes(32), Corrupt),
            "duplicate key" => (Raw().String("general.architecture", "llama").ToBytes(32), Corrupt),
            "duplicate tensor name" => (Raw().Tensor("t", [8], 0, 32).ToBytes(64), Corrupt),
            "tensor name of 64 bytes" => (Raw().Tensor(new string('x', 64), [8], 0, 32).ToBytes(64), Corrupt),
            "duplicate token" => (Raw().Strings("tokenizer.ggml.tokens", "a", "b", "a").ToBytes(32), Corrupt),
            "scores shorter than the tokens" => (Raw().Strings("tokenizer.ggml.tokens", "a", "b").Array("tokenizer.ggml.scores", 6, [1f]).ToBytes(32), Corrupt),
            "token types as floats" => (Raw().Strings("tokenizer.ggml.tokens", "a").Array("tokenizer.ggml.token_type", 6, [1f]).ToBytes(32), Corrupt),
            "tokens as integers" => (Raw().Array("tokenizer.ggml.tokens", 5, [1]).ToBytes(32), Corrupt),
            "no architecture" => (new RawGguf().Tensor("t", [8], 0, 0).ToBytes(32), ModelFileProblem.UnsupportedArchitecture),
            "an embedding model's architecture" => (new RawGguf().String("general.architecture", "bert").ToBytes(0), ModelFileProblem.UnsupportedArchitecture),
            "an unknown architecture" => (new RawGguf().String("general.architecture", "llama9").ToBytes(0), ModelFileProblem.UnsupportedArchitecture),

            // The reader used to recurse into nested arrays: this overflowed its stack, which ends the process.
            "arrays nested a million deep" => (Raw().Key("deep", 9, w =>
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    w.Write(9u);
                    w.Write(1UL);
                }
            }).ToBytes(0), Corrupt),
            _ => throw new ArgumentException($"no mutant called {name}", nameof(name)),
        };
    }

    /// <summary>A llama header with one f32 tensor of 8 values at offset 0 (32 data bytes follow it).</summary>
    private static RawGguf Raw() => new RawGguf().String("general.architecture", "llama").Tensor("t", [8], 0, 0);

    private GgufSpan Span(GgufField field, string? label = null) => _layout.First(s => s.Field == field && (label is null || s.Label == label));

    private ulong Read(GgufSpan span) => span.Length == 4 ? BitConverter.ToUInt32(_model, (int)span.Offset) : BitConverter.ToUInt64(_model, (int)span.Offset);

    private byte[] Patched(GgufSpan span, ulong value) => Patched(_model, span, value);

    private static byte[] Patched(byte[] file, GgufSpan span, ulong value)
    {
        var copy = file.ToArray();
        var bytes = span.Length == 4 ? BitConverter.GetBytes(checked((uint)value)) : BitConverter.GetBytes(value);
        bytes.CopyTo(copy, span.Offset);
        return copy;
    }

    /// <summary>What <see cref="ModelFile.Check"/> makes of the file at <see cref="_path"/>: null when it passes.</summary>
    private Exception? Outcome()
    {
        try
        {
            ModelFile.Check(_path);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Runs <paramref name="action"/> with the bytes of <see cref="_path"/> XORed, then restores them.</summary>
    private T WithFlips<T>(Func<T> action, params (long Offset, int Mask)[] flips)
    {
        Patch(flips);
        try
        {
            return action();
        }
        finally
        {
            Patch(flips);
        }
    }

    private void Patch((long Offset, int Mask)[] flips)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite);
        foreach (var (offset, mask) in flips)
        {
            stream.Position = offset;
            var b = stream.ReadByte();
            stream.Position = offset;
            stream.WriteByte((byte)(b ^ mask));
        }
    }

    private static void Count(Dictionary<string, int> outcomes, Exception? outcome)
    {
        var key = outcome switch
        {
            null => "passed",
            ModelFileException e => e.Kind.ToString(),
            _ => outcome.GetType().Name,
        };
        outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
    }

    private static string Describe(Exception? outcome) => outcome switch
    {
        null => "passed",
        ModelFileException e => $"{e.Kind}: {e.Message}",
        _ => $"{outcome.GetType().Name}: {outcome.Message}",
    };
}
