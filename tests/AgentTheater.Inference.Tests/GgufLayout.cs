using System.Text;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Tests;

/// <summary>The parts of a GGUF file, as the fuzz tests cut and flip them.</summary>
internal enum GgufField
{
    Magic,
    Version,
    TensorCount,
    KeyCount,
    KeyLength,
    Key,
    ValueType,
    ArrayElementType,
    ArrayCount,
    StringLength,
    Value,
    TensorNameLength,
    TensorName,
    DimensionCount,
    Dimension,
    TensorType,
    TensorOffset,
    Padding,
    TensorData,
}

/// <summary>One part of a GGUF file: where it lies and what it is.</summary>
internal sealed record GgufSpan(GgufField Field, long Offset, long Length, string Label)
{
    public long End => Offset + Length;
}

/// <summary>
/// Walks a well-formed GGUF file (one our writer wrote) and lists its parts in file order, independently of the reader
/// under test, so the tests know where every section boundary is.
/// </summary>
internal static class GgufLayout
{
    /// <summary>Fields that hold lengths, counts, types, shapes or offsets: what the header's structure rests on.</summary>
    public static readonly IReadOnlySet<GgufField> Structural = new HashSet<GgufField>
    {
        GgufField.Magic, GgufField.Version, GgufField.TensorCount, GgufField.KeyCount, GgufField.KeyLength, GgufField.ValueType,
        GgufField.ArrayElementType, GgufField.ArrayCount, GgufField.StringLength, GgufField.TensorNameLength,
        GgufField.DimensionCount, GgufField.Dimension, GgufField.TensorType, GgufField.TensorOffset,
    };

    public static List<GgufSpan> Of(byte[] file)
    {
        var spans = new List<GgufSpan>();
        using var reader = new BinaryReader(new MemoryStream(file), Encoding.UTF8);
        T Read<T>(GgufField field, string label, Func<BinaryReader, T> read)
        {
            var start = reader.BaseStream.Position;
            var value = read(reader);
            spans.Add(new GgufSpan(field, start, reader.BaseStream.Position - start, label));
            return value;
        }

        string ReadString(GgufField lengthField, GgufField textField, string label)
        {
            var length = Read(lengthField, label, r => r.ReadUInt64());
            return Encoding.UTF8.GetString(Read(textField, label, r => r.ReadBytes((int)length)));
        }

        Read(GgufField.Magic, "magic", r => r.ReadUInt32());
        Read(GgufField.Version, "version", r => r.ReadUInt32());
        var tensorCount = Read(GgufField.TensorCount, "tensor count", r => r.ReadUInt64());
        var keyCount = Read(GgufField.KeyCount, "key count", r => r.ReadUInt64());
        var alignment = 32L;
        for (ulong i = 0; i < keyCount; i++)
        {
            var key = ReadString(GgufField.KeyLength, GgufField.Key, $"key #{i}");
            var type = Read(GgufField.ValueType, key, r => r.ReadUInt32());
            if (type == 9)
            {
                var elementType = Read(GgufField.ArrayElementType, key, r => r.ReadUInt32());
                var count = Read(GgufField.ArrayCount, key, r => r.ReadUInt64());
                Read(GgufField.Value, key, r =>
                {
                    for (ulong e = 0; e < count; e++)
                    {
                        SkipValue(r, elementType);
                    }

                    return 0;
                });
            }
            else if (type == 8)
            {
                ReadString(GgufField.StringLength, GgufField.Value, key);
            }
            else
            {
                var value = Read(GgufField.Value, key, r => SkipValue(r, type));
                alignment = key == "general.alignment" ? value : alignment;
            }
        }

        var tensors = new List<(string Name, long Bytes, long Offset)>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            var name = ReadString(GgufField.TensorNameLength, GgufField.TensorName, $"tensor #{i}");
            var dims = Read(GgufField.DimensionCount, name, r => r.ReadUInt32());
            var elements = 1L;
            for (var d = 0; d < dims; d++)
            {
                elements *= (long)Read(GgufField.Dimension, $"{name} dim {d}", r => r.ReadUInt64());
            }

            var type = Read(GgufField.TensorType, name, r => r.ReadUInt32());
            var offset = (long)Read(GgufField.TensorOffset, name, r => r.ReadUInt64());
            var layout = GgmlTypeInfo.Layout(type)!.Value;
            tensors.Add((name, elements / layout.BlockSize * layout.BlockBytes, offset));
        }

        var headerEnd = reader.BaseStream.Position;
        var dataStart = (headerEnd + alignment - 1) / alignment * alignment;
        spans.Add(new GgufSpan(GgufField.Padding, headerEnd, dataStart - headerEnd, "padding before the data"));
        foreach (var (name, bytes, offset) in tensors)
        {
            spans.Add(new GgufSpan(GgufField.TensorData, dataStart + offset, bytes, name));
        }

        return spans;
    }

    private static long SkipValue(BinaryReader reader, uint type)
    {
        switch (type)
        {
            case 0 or 1 or 7:
                return reader.ReadByte();
            case 2 or 3:
                return reader.ReadUInt16();
            case 4 or 5 or 6:
                return reader.ReadUInt32();
            case 10 or 11 or 12:
                return (long)reader.ReadUInt64();
            case 8:
                reader.BaseStream.Seek((long)reader.ReadUInt64(), SeekOrigin.Current);
                return 0;
            default:
                throw new InvalidDataException($"value type {type} in a file our writer wrote");
        }
    }
}

/// <summary>Writes GGUF bytes by hand, for headers no writer would produce.</summary>
internal sealed class RawGguf
{
    private readonly List<byte[]> _keys = [];
    private readonly List<byte[]> _tensors = [];

    public uint Version { get; init; } = 3;

    public RawGguf Key(string key, uint type, Action<BinaryWriter> value)
    {
        _keys.Add(Bytes(w =>
        {
            WriteString(w, key);
            w.Write(type);
            value(w);
        }));
        return this;
    }

    public RawGguf String(string key, string value) => Key(key, 8, w => WriteString(w, value));

    public RawGguf Strings(string key, params string[] values) => Key(key, 9, w =>
    {
        w.Write(8u);
        w.Write((ulong)values.Length);
        foreach (var value in values)
        {
            WriteString(w, value);
        }
    });

    /// <summary>An array of 4-byte values (<paramref name="elementType"/> 4, 5 or 6).</summary>
    public RawGguf Array(string key, uint elementType, object[] values) => Key(key, 9, w =>
    {
        w.Write(elementType);
        w.Write((ulong)values.Length);
        foreach (var value in values)
        {
            w.Write(value is float f ? BitConverter.SingleToUInt32Bits(f) : Convert.ToUInt32(value, System.Globalization.CultureInfo.InvariantCulture));
        }
    });

    public RawGguf Tensor(string name, ulong[] shape, uint type, ulong offset)
    {
        _tensors.Add(Bytes(w =>
        {
            WriteString(w, name);
            w.Write((uint)shape.Length);
            foreach (var d in shape)
            {
                w.Write(d);
            }

            w.Write(type);
            w.Write(offset);
        }));
        return this;
    }

    /// <summary>The file: header, padding to 32 bytes, then <paramref name="dataBytes"/> zero bytes.</summary>
    public byte[] ToBytes(int dataBytes) => Bytes(w =>
    {
        w.Write(GgufWriter.Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_keys.Count);
        var length = 24L;
        foreach (var part in _keys.Concat(_tensors))
        {
            w.Write(part);
            length += part.Length;
        }

        w.Write(new byte[(32 - length % 32) % 32]);
        w.Write(new byte[dataBytes]);
    });

    public static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}
