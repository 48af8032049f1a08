using System.Text;

namespace AgentTheater.Inference.Gguf;

/// <summary>A tensor's descriptor in a GGUF file.</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Shape">Dimensions in ggml order.</param>
/// <param name="Type">Storage type.</param>
/// <param name="Offset">Byte offset from the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, long[] Shape, GgmlType Type, long Offset)
{
    /// <summary>Number of values.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The header of a GGUF file: metadata and tensor descriptors. Reading checks that every tensor's data
/// lies inside the file, so a truncated download is reported here and not as a crash in llama.cpp.
/// </summary>
public sealed class GgufFile
{
    private GgufFile(string path, uint version, IReadOnlyDictionary<string, object> metadata, IReadOnlyList<GgufTensorInfo> tensors, long fileSize)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        FileSize = fileSize;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>GGUF version.</summary>
    public uint Version { get; }

    /// <summary>Metadata values: string, bool, numbers, or arrays of those (as <c>object[]</c>).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>Tensor descriptors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>general.architecture, or null.</summary>
    public string? Architecture => GetString("general.architecture");

    /// <summary>Returns a string value or null.</summary>
    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v as string : null;

    /// <summary>Returns an integer value (any integer type) or null.</summary>
    public long? GetInteger(string key) => Metadata.TryGetValue(key, out var v) && v is IConvertible c && v is not string and not float and not double and not bool
        ? c.ToInt64(null)
        : null;

    /// <summary>Returns the architecture-scoped value <c>{arch}.{suffix}</c> as an integer, or null.</summary>
    public long? GetArchInteger(string suffix) => Architecture is { } arch ? GetInteger($"{arch}.{suffix}") : null;

    /// <summary>Reads the header of <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is not GGUF, or is truncated or corrupt.</exception>
    public static GgufFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: model file not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var length = stream.Length;
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (length < 24 || reader.ReadUInt32() != GgufWriter.Magic)
            {
                throw new GgufFormatException(path, "not a GGUF file (the first four bytes are not 'GGUF').");
            }

            var version = reader.ReadUInt32();
            if (version is < 2 or > 3)
            {
                throw new GgufFormatException(path, $"unsupported GGUF version {version} (2 or 3 expected).");
            }

            var tensorCount = reader.ReadUInt64();
            var kvCount = reader.ReadUInt64();
            if (tensorCount > 1_000_000 || kvCount > 1_000_000)
            {
                throw new GgufFormatException(path, $"implausible header: {tensorCount} tensors, {kvCount} metadata keys.");
            }

            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < kvCount; i++)
            {
                var key = ReadString(reader, length);
                var type = (GgufValueType)reader.ReadUInt32();
                metadata[key] = ReadValue(reader, type, length, path, key);
            }

            var tensors = new List<GgufTensorInfo>((int)tensorCount);
            for (ulong i = 0; i < tensorCount; i++)
            {
                var name = ReadString(reader, length);
                var dims = reader.ReadUInt32();
                if (dims is 0 or > 4)
                {
                    throw new GgufFormatException(path, $"tensor '{name}' has {dims} dimensions.");
                }

                var shape = new long[dims];
                for (var d = 0; d < dims; d++)
                {
                    shape[d] = checked((long)reader.ReadUInt64());
                }

                var type = (GgmlType)reader.ReadUInt32();
                var offset = checked((long)reader.ReadUInt64());
                tensors.Add(new GgufTensorInfo(name, shape, type, offset));
            }

            var alignment = metadata.TryGetValue("general.alignment", out var a) && a is uint u ? u : GgufWriter.Alignment;
            var dataStart = (stream.Position + alignment - 1) / alignment * alignment;
            foreach (var tensor in tensors)
            {
                long bytes;
                try
                {
                    bytes = GgmlTypeInfo.ByteCount(tensor.Type, tensor.ElementCount);
                }
                catch (ArgumentException)
                {
                    // A type this reader does not encode: llama.cpp checks it on load.
                    continue;
                }

                if (dataStart + tensor.Offset + bytes > length)
                {
                    throw new GgufFormatException(path, $"truncated: tensor '{tensor.Name}' ends at byte {dataStart + tensor.Offset + bytes} but the file has {length} bytes.");
                }
            }

            return new GgufFile(path, version, metadata, tensors, length);
        }
        catch (EndOfStreamException e)
        {
            throw new GgufFormatException(path, "truncated: the header ends before its declared metadata and tensors.", e);
        }
        catch (OverflowException e)
        {
            throw new GgufFormatException(path, "corrupt header: a size does not fit in 63 bits.", e);
        }
    }

    private static string ReadString(BinaryReader reader, long fileLength)
    {
        var n = reader.ReadUInt64();
        if (n > (ulong)fileLength)
        {
            throw new EndOfStreamException();
        }

        return Encoding.UTF8.GetString(reader.ReadBytes((int)n));
    }

    private static object ReadValue(BinaryReader reader, GgufValueType type, long fileLength, string path, string key) => type switch
    {
        GgufValueType.UInt8 => reader.ReadByte(),
        GgufValueType.Int8 => reader.ReadSByte(),
        GgufValueType.UInt16 => reader.ReadUInt16(),
        GgufValueType.Int16 => reader.ReadInt16(),
        GgufValueType.UInt32 => reader.ReadUInt32(),
        GgufValueType.Int32 => reader.ReadInt32(),
        GgufValueType.Float32 => reader.ReadSingle(),
        GgufValueType.Bool => reader.ReadByte() != 0,
        GgufValueType.String => ReadString(reader, fileLength),
        GgufValueType.UInt64 => reader.ReadUInt64(),
        GgufValueType.Int64 => reader.ReadInt64(),
        GgufValueType.Float64 => reader.ReadDouble(),
        GgufValueType.Array => ReadArray(reader, fileLength, path, key),
        _ => throw new GgufFormatException(path, $"metadata key '{key}' has unknown value type {(uint)type}."),
    };

    private static object[] ReadArray(BinaryReader reader, long fileLength, string path, string key)
    {
        var elementType = (GgufValueType)reader.ReadUInt32();
        var count = reader.ReadUInt64();
        if (count > (ulong)fileLength)
        {
            throw new EndOfStreamException();
        }

        var items = new object[count];
        for (ulong i = 0; i < count; i++)
        {
            items[i] = ReadValue(reader, elementType, fileLength, path, key);
        }

        return items;
    }
}
