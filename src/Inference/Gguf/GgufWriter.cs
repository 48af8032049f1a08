using System.Text;

namespace AgentTheater.Inference.Gguf;

/// <summary>
/// Writes GGUF version 3 files: metadata key/values, tensor descriptors, then aligned tensor data.
/// Tensor values are produced chunk by chunk at write time, so models larger than memory can be written.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>The file magic, "GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The format version written.</summary>
    public const uint Version = 3;

    /// <summary>Default data alignment (general.alignment).</summary>
    public const int Alignment = 32;

    private const int ChunkElements = 1 << 20;

    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<TensorEntry> _tensors = [];

    /// <summary>Fills <paramref name="chunk"/> with the tensor's values starting at element <paramref name="start"/>.</summary>
    public delegate void TensorFill(long start, Span<float> chunk);

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>Adds a string value.</summary>
    public GgufWriter Add(string key, string value) => AddRaw(key, GgufValueType.String, value);

    /// <summary>Adds a uint32 value.</summary>
    public GgufWriter Add(string key, uint value) => AddRaw(key, GgufValueType.UInt32, value);

    /// <summary>Adds an int32 value.</summary>
    public GgufWriter Add(string key, int value) => AddRaw(key, GgufValueType.Int32, value);

    /// <summary>Adds a float32 value.</summary>
    public GgufWriter Add(string key, float value) => AddRaw(key, GgufValueType.Float32, value);

    /// <summary>Adds a bool value.</summary>
    public GgufWriter Add(string key, bool value) => AddRaw(key, GgufValueType.Bool, value);

    /// <summary>Adds an array of strings.</summary>
    public GgufWriter Add(string key, IReadOnlyList<string> values) => AddRaw(key, GgufValueType.Array, (GgufValueType.String, (object)values));

    /// <summary>Adds an array of float32.</summary>
    public GgufWriter Add(string key, IReadOnlyList<float> values) => AddRaw(key, GgufValueType.Array, (GgufValueType.Float32, (object)values));

    /// <summary>Adds an array of int32.</summary>
    public GgufWriter Add(string key, IReadOnlyList<int> values) => AddRaw(key, GgufValueType.Array, (GgufValueType.Int32, (object)values));

    /// <summary>
    /// Adds a tensor. <paramref name="shape"/> is in ggml order (ne0 first: the contiguous dimension).
    /// </summary>
    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, TensorFill fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(fill);
        if (shape.Length is 0 or > 4 || shape.Any(d => d <= 0))
        {
            throw new ArgumentException($"Tensor '{name}' has an invalid shape [{string.Join(", ", shape)}].", nameof(shape));
        }

        if (shape[0] % GgmlTypeInfo.BlockSize(type) != 0)
        {
            throw new ArgumentException($"Tensor '{name}': first dimension {shape[0]} is not a multiple of the {type} block size.", nameof(shape));
        }

        if (_tensors.Any(t => t.Name == name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        _tensors.Add(new TensorEntry(name, shape, type, fill));
        return this;
    }

    /// <summary>Adds a tensor from values held in memory.</summary>
    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (values.Length != count)
        {
            throw new ArgumentException($"Tensor '{name}' needs {count} values, got {values.Length}.", nameof(values));
        }

        return AddTensor(name, shape, type, (start, chunk) => values.AsSpan((int)start, chunk.Length).CopyTo(chunk));
    }

    /// <summary>
    /// Writes the file. It is written beside <paramref name="path"/> first and moved into place when complete,
    /// so a failure never leaves a truncated model behind.
    /// </summary>
    public void WriteTo(string path, IProgress<double>? progress = null)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".partial";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Write(stream, progress);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Writes the whole file to <paramref name="stream"/>.</summary>
    public void Write(Stream stream, IProgress<double>? progress = null)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write((ulong)_tensors.Count);
        writer.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)type);
            WriteValue(writer, type, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var tensor = _tensors[i];
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Shape.Length);
            foreach (var dim in tensor.Shape)
            {
                writer.Write((ulong)dim);
            }

            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset);
            offsets[i] = offset;
            offset = AlignUp(offset + tensor.ByteCount);
        }

        writer.Flush();
        Pad(stream, AlignUp(stream.Position) - stream.Position);
        var dataStart = stream.Position;
        var total = Math.Max(1, offset);
        var floats = new float[ChunkElements];
        var bytes = new byte[GgmlTypeInfo.ByteCount(GgmlType.F32, ChunkElements)];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var tensor = _tensors[i];
            Pad(stream, dataStart + offsets[i] - stream.Position);
            for (long start = 0; start < tensor.ElementCount; start += ChunkElements)
            {
                var n = (int)Math.Min(ChunkElements, tensor.ElementCount - start);
                var chunk = floats.AsSpan(0, n);
                tensor.Fill(start, chunk);
                var byteCount = (int)GgmlTypeInfo.ByteCount(tensor.Type, n);
                GgmlQuantizer.Encode(tensor.Type, chunk, bytes);
                stream.Write(bytes, 0, byteCount);
            }

            progress?.Report((double)(offsets[i] + tensor.ByteCount) / total);
        }

        Pad(stream, dataStart + offset - stream.Position);
    }

    private GgufWriter AddRaw(string key, GgufValueType type, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_metadata.Any(m => m.Key == key))
        {
            throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add((key, type, value));
        return this;
    }

    private static long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream, long count)
    {
        for (long i = 0; i < count; i++)
        {
            stream.WriteByte(0);
        }
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.String: WriteString(writer, (string)value); break;
            case GgufValueType.UInt32: writer.Write((uint)value); break;
            case GgufValueType.Int32: writer.Write((int)value); break;
            case GgufValueType.Float32: writer.Write((float)value); break;
            case GgufValueType.Bool: writer.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.Array:
                var (elementType, items) = ((GgufValueType, object))value;
                writer.Write((uint)elementType);
                switch (items)
                {
                    case IReadOnlyList<string> strings:
                        writer.Write((ulong)strings.Count);
                        foreach (var s in strings)
                        {
                            WriteString(writer, s);
                        }

                        break;
                    case IReadOnlyList<float> floats:
                        writer.Write((ulong)floats.Count);
                        foreach (var f in floats)
                        {
                            writer.Write(f);
                        }

                        break;
                    case IReadOnlyList<int> ints:
                        writer.Write((ulong)ints.Count);
                        foreach (var n in ints)
                        {
                            writer.Write(n);
                        }

                        break;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported metadata type.");
        }
    }

    private sealed record TensorEntry(string Name, long[] Shape, GgmlType Type, TensorFill Fill)
    {
        public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

        public long ByteCount => GgmlTypeInfo.ByteCount(Type, ElementCount);
    }
}
