namespace AgentTheater.Inference.Gguf;

/// <summary>Encodes float values into ggml's on-disk tensor layouts (reference quantisers of ggml-quants.c).</summary>
public static class GgmlQuantizer
{
    /// <summary>Writes <paramref name="values"/> as <paramref name="type"/> into <paramref name="destination"/>.</summary>
    public static void Encode(GgmlType type, ReadOnlySpan<float> values, Span<byte> destination)
    {
        var needed = GgmlTypeInfo.ByteCount(type, values.Length);
        if (destination.Length < needed)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {needed} needed.", nameof(destination));
        }

        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                {
                    BitConverter.TryWriteBytes(destination[(i * 4)..], values[i]);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                {
                    BitConverter.TryWriteBytes(destination[(i * 2)..], (Half)values[i]);
                }

                break;
            case GgmlType.Q8_0:
                EncodeQ8_0(values, destination);
                break;
            case GgmlType.Q4_0:
                EncodeQ4_0(values, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported ggml type.");
        }
    }

    private static void EncodeQ8_0(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (int block = 0, offset = 0; block < values.Length / 32; block++, offset += 34)
        {
            var x = values.Slice(block * 32, 32);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            var d = amax / 127f;
            var id = d != 0 ? 1f / d : 0f;
            BitConverter.TryWriteBytes(destination[offset..], (Half)d);
            for (var j = 0; j < 32; j++)
            {
                destination[offset + 2 + j] = unchecked((byte)(sbyte)MathF.Round(x[j] * id));
            }
        }
    }

    private static void EncodeQ4_0(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (int block = 0, offset = 0; block < values.Length / 32; block++, offset += 18)
        {
            var x = values.Slice(block * 32, 32);
            float amax = 0f, max = 0f;
            foreach (var v in x)
            {
                if (MathF.Abs(v) > amax)
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            var d = max / -8f;
            var id = d != 0 ? 1f / d : 0f;
            BitConverter.TryWriteBytes(destination[offset..], (Half)d);
            for (var j = 0; j < 16; j++)
            {
                var lo = (byte)Math.Min(15, (int)(x[j] * id + 8.5f));
                var hi = (byte)Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                destination[offset + 2 + j] = (byte)(lo | (hi << 4));
            }
        }
    }
}
