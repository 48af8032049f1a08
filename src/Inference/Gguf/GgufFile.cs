using System.Text;
using AgentTheater.Inference.Engine;

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
/// The header of a GGUF file: metadata and tensor descriptors. Reading checks what llama.cpp b7347's own GGUF reader
/// (ggml/src/gguf.cpp) checks, and that every tensor's data lies inside the file, so a truncated download or a corrupt
/// header is reported here, as a <see cref="GgufFormatException"/>, and not as a crash in llama.cpp. Counts and lengths
/// are bounded by the bytes that are there before anything is allocated for them.
/// </summary>
public sealed class GgufFile
{
    /// <summary>
    /// The most bytes a header (everything before the tensor data) may take. A real one is under 20 MB even with a
    /// 262K-token vocabulary and its scores, or 200K tokens and 450K merges; past this the header is corrupt.
    /// </summary>
    public const long MaxHeaderBytes = 1L << 28;

    /// <summary>The most array elements all metadata values may hold together (a real model holds under 2 million).</summary>
    public const int MaxMetadataElements = 1 << 23;

    /// <summary>The longest tensor name llama.cpp reads (GGML_MAX_NAME is 64, with the terminating zero).</summary>
    public const int MaxTensorNameBytes = 63;

    private GgufFile(
        string path, uint version, IReadOnlyDictionary<string, object> metadata, IReadOnlyList<GgufTensorInfo> tensors, long fileSize, int alignment, long dataOffset)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        FileSize = fileSize;
        Alignment = alignment;
        DataOffset = dataOffset;
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

    /// <summary>The data alignment (<c>general.alignment</c>, 32 when absent).</summary>
    public int Alignment { get; }

    /// <summary>Byte offset of the tensor data section from the start of the file.</summary>
    public long DataOffset { get; }

    /// <summary>general.architecture, or null.</summary>
    public string? Architecture => GetString("general.architecture");

    /// <summary>Returns a string value or null.</summary>
    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v as string : null;

    /// <summary>Returns an integer value (any integer type that fits in 64 signed bits) or null.</summary>
    public long? GetInteger(string key) => Metadata.TryGetValue(key, out var v) ? v switch
    {
        byte b => b,
        sbyte sb => sb,
        ushort us => us,
        short s => s,
        uint ui => ui,
        int i => i,
        ulong ul when ul <= long.MaxValue => (long)ul,
        long l => l,
        _ => null,
    } : null;

    /// <summary>Returns the architecture-scoped value <c>{arch}.{suffix}</c> as an integer, or null.</summary>
    public long? GetArchInteger(string suffix) => Architecture is { } arch ? GetInteger($"{arch}.{suffix}") : null;

    /// <summary>Reads the header of <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is not GGUF, or is truncated or corrupt.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static GgufFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: model file not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        return new HeaderReader(path, stream, reader).Read();
    }

    /// <summary>One pass over a header; <c>_context</c> names what is being read, for the error of a file that ends there.</summary>
    private sealed class HeaderReader(string path, FileStream stream, BinaryReader reader)
    {
        private const uint DefaultAlignment = GgufWriter.Alignment;

        // The fewest bytes a tensor descriptor takes: name length, dimension count, type and offset.
        private const int MinTensorInfoBytes = 8 + 4 + 4 + 8;

        // The fewest bytes a metadata pair takes: key length, value type and a one-byte value.
        private const int MinKeyValueBytes = 8 + 4 + 1;

        private readonly BinaryReader _reader = reader;
        private readonly long _length = stream.Length;
        private string _context = "the header";
        private long _elements;

        public GgufFile Read()
        {
            try
            {
                return ReadHeader();
            }
            catch (EndOfStreamException e)
            {
                throw Fail(ModelFileProblem.Truncated, $"truncated: the file ends at byte {_length}, inside {_context}.", e);
            }
        }

        private GgufFile ReadHeader()
        {
            if (_length < 4)
            {
                throw Fail(ModelFileProblem.NotGguf, $"not a GGUF file: it has {_length} bytes, fewer than the four of the magic 'GGUF'.");
            }

            if (_reader.ReadUInt32() != GgufWriter.Magic)
            {
                throw Fail(ModelFileProblem.NotGguf, "not a GGUF file (the first four bytes are not 'GGUF').");
            }

            var version = _reader.ReadUInt32();
            if (version is not (2 or 3))
            {
                throw Fail(
                    ModelFileProblem.UnsupportedVersion,
                    version != 0 && (version & 0xFFFF) == 0
                        ? $"GGUF version 0x{version:X8}: a big-endian file? llama.cpp reads little-endian GGUF versions 2 and 3."
                        : $"unsupported GGUF version {version} (llama.cpp reads versions 2 and 3).");
            }

            var tensorCount = _reader.ReadUInt64();
            var kvCount = _reader.ReadUInt64();
            if (tensorCount > MaxHeaderBytes / MinTensorInfoBytes || kvCount > MaxHeaderBytes / MinKeyValueBytes)
            {
                throw Fail(ModelFileProblem.Corrupt, $"corrupt header: it declares {tensorCount} tensors and {kvCount} metadata keys, more than a header of {MaxHeaderBytes} bytes could hold.");
            }

            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < kvCount; i++)
            {
                _context = $"metadata key #{i}";
                var key = ReadString($"the name of metadata key #{i}");
                _context = $"metadata key '{key}'";
                if (metadata.ContainsKey(key))
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' appears twice.");
                }

                var type = _reader.ReadUInt32();
                metadata[key] = ReadValue(type, key, inArray: false);
            }

            var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
            var sizes = new List<Int128>(tensors.Capacity);
            var offsets = new List<ulong>(tensors.Capacity);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                _context = $"tensor #{i}";
                var nameLength = _reader.ReadUInt64();
                if (nameLength > MaxTensorNameBytes)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: the name of tensor #{i} is {nameLength} bytes long (llama.cpp reads at most {MaxTensorNameBytes}).");
                }

                var name = Encoding.UTF8.GetString(ReadBytes(nameLength, $"the name of tensor #{i}"));
                if (!names.Add(name))
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' appears twice.");
                }

                _context = $"tensor '{name}'";
                var (shape, elements) = ReadShape(name);
                var typeId = _reader.ReadUInt32();
                if (GgmlTypeInfo.Layout(typeId) is not { } layout)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' has ggml type {typeId}, which llama.cpp b7347 does not load.");
                }

                if (shape[0] % layout.BlockSize != 0)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' has rows of {shape[0]} values, not a multiple of the {layout.Name} block of {layout.BlockSize}.");
                }

                var offset = _reader.ReadUInt64();
                tensors.Add(new GgufTensorInfo(name, shape, (GgmlType)typeId, offset <= long.MaxValue ? (long)offset : -1));
                sizes.Add(elements / layout.BlockSize * layout.BlockBytes);
                offsets.Add(offset);
            }

            var alignment = ReadAlignment(metadata);
            var dataOffset = (stream.Position + alignment - 1) / alignment * alignment;
            Int128 expected = 0;
            for (var i = 0; i < tensors.Count; i++)
            {
                var (name, offset, size) = (tensors[i].Name, offsets[i], sizes[i]);
                if (offset % alignment != 0)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' starts at data offset {offset}, not a multiple of the alignment {alignment}.");
                }

                if (offset != expected)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' starts at data offset {offset}, but the tensors before it end at {expected} (llama.cpp needs each tensor right after the one before).");
                }

                var end = (Int128)dataOffset + offset + size;
                if (end > _length)
                {
                    throw Fail(ModelFileProblem.Truncated, $"truncated: tensor '{name}' ends at byte {end}, but the file has {_length} bytes.");
                }

                expected = (offset + size + alignment - 1) / alignment * alignment;
            }

            return new GgufFile(path, version, metadata, tensors, _length, (int)alignment, dataOffset);
        }

        private (long[] Shape, Int128 Elements) ReadShape(string name)
        {
            var dims = _reader.ReadUInt32();
            if (dims > 4)
            {
                throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' has {dims} dimensions (at most 4).");
            }

            var shape = new long[dims];
            Int128 elements = 1;
            for (var d = 0; d < dims; d++)
            {
                var n = _reader.ReadUInt64();

                // gguf.cpp accepts a zero, then divides by it (checking the element count fits): the process dies.
                if (n is 0 or > long.MaxValue)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: dimension {d} of tensor '{name}' is {n}.");
                }

                shape[d] = (long)n;
                elements *= n;
                if (elements >= long.MaxValue)
                {
                    throw Fail(ModelFileProblem.Corrupt, $"corrupt header: tensor '{name}' has more than 2^63 values (shape {string.Join(" x ", shape[..(d + 1)])}).");
                }
            }

            return (dims == 0 ? [1] : shape, elements);
        }

        private uint ReadAlignment(Dictionary<string, object> metadata)
        {
            if (!metadata.TryGetValue("general.alignment", out var value))
            {
                return DefaultAlignment;
            }

            // gguf.cpp asserts the type (a failed assertion aborts the process), then checks the value.
            if (value is not uint alignment)
            {
                throw Fail(ModelFileProblem.Corrupt, $"corrupt header: general.alignment is {Describe(value)}, not a uint32.");
            }

            return alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment <= 1u << 30
                ? alignment
                : throw Fail(ModelFileProblem.Corrupt, $"corrupt header: general.alignment {alignment} is not a power of 2.");
        }

        private object ReadValue(uint type, string key, bool inArray) => (GgufValueType)type switch
        {
            GgufValueType.UInt8 => _reader.ReadByte(),
            GgufValueType.Int8 => _reader.ReadSByte(),
            GgufValueType.UInt16 => _reader.ReadUInt16(),
            GgufValueType.Int16 => _reader.ReadInt16(),
            GgufValueType.UInt32 => _reader.ReadUInt32(),
            GgufValueType.Int32 => _reader.ReadInt32(),
            GgufValueType.Float32 => _reader.ReadSingle(),
            GgufValueType.Bool => _reader.ReadByte() != 0,
            GgufValueType.String => ReadString($"the value of '{key}'"),
            GgufValueType.UInt64 => _reader.ReadUInt64(),
            GgufValueType.Int64 => _reader.ReadInt64(),
            GgufValueType.Float64 => _reader.ReadDouble(),
            GgufValueType.Array when !inArray => ReadArray(key),
            GgufValueType.Array => throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' is an array of arrays, which llama.cpp does not read."),
            _ => throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' has unknown value type {type}."),
        };

        private object[] ReadArray(string key)
        {
            var elementType = _reader.ReadUInt32();
            var elementBytes = (GgufValueType)elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                GgufValueType.String => 8, // the length; the text may be empty
                GgufValueType.Array => throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' is an array of arrays, which llama.cpp does not read."),
                _ => throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' is an array of unknown value type {elementType}."),
            };
            var count = _reader.ReadUInt64();
            if (count > (ulong)(MaxMetadataElements - _elements))
            {
                throw Fail(ModelFileProblem.Corrupt, $"corrupt header: metadata key '{key}' is an array of {count} elements (the metadata may hold {MaxMetadataElements} in all).");
            }

            Need(count * (ulong)elementBytes, $"the array '{key}' of {count} elements");
            _elements += (long)count;
            var items = new object[count];
            for (ulong i = 0; i < count; i++)
            {
                items[i] = ReadValue(elementType, key, inArray: true);
            }

            return items;
        }

        private string ReadString(string what) => Encoding.UTF8.GetString(ReadBytes(_reader.ReadUInt64(), what));

        private byte[] ReadBytes(ulong count, string what)
        {
            Need(count, what);
            var bytes = _reader.ReadBytes((int)count);
            return bytes.Length == (int)count ? bytes : throw new EndOfStreamException();
        }

        /// <summary>
        /// Fails unless <paramref name="count"/> more bytes are in the file: a claim no header could make is corrupt, any
        /// other the file cannot meet is a file cut short.
        /// </summary>
        private void Need(ulong count, string what)
        {
            var position = stream.Position;
            if (count > (ulong)(MaxHeaderBytes - Math.Min(position, MaxHeaderBytes)))
            {
                throw Fail(ModelFileProblem.Corrupt, $"corrupt header: {what} at byte {position} claims {count} bytes, more than a header may take ({MaxHeaderBytes} bytes).");
            }

            if (count > (ulong)(_length - position))
            {
                throw Fail(ModelFileProblem.Truncated, $"truncated: {what} at byte {position} needs {count} bytes, but the file ends at byte {_length}.");
            }
        }

        private GgufFormatException Fail(ModelFileProblem kind, string problem, Exception? inner = null) => new(path, kind, problem, inner);

        private static string Describe(object value) => value switch
        {
            object[] array => $"an array of {array.Length}",
            string => "a string",
            _ => $"a {value.GetType().Name}",
        };
    }
}
