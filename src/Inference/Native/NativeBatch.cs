using System.Runtime.InteropServices;

namespace AgentTheater.Inference.Native;

/// <summary>
/// A reusable <c>llama_batch</c> in native memory: each token belongs to one sequence. The arrays are
/// allocated once at the pool's batch capacity.
/// </summary>
internal sealed unsafe class NativeBatch : IDisposable
{
    private readonly int* _tokens;
    private readonly int* _positions;
    private readonly int* _seqCounts;
    private readonly int** _seqIds;
    private readonly int* _seqIdStorage;
    private readonly sbyte* _logits;

    public NativeBatch(int capacity)
    {
        Capacity = capacity;
        _tokens = (int*)NativeMemory.Alloc((nuint)capacity, sizeof(int));
        _positions = (int*)NativeMemory.Alloc((nuint)capacity, sizeof(int));
        _seqCounts = (int*)NativeMemory.Alloc((nuint)capacity, sizeof(int));
        _seqIds = (int**)NativeMemory.Alloc((nuint)capacity, (nuint)sizeof(int*));
        _seqIdStorage = (int*)NativeMemory.Alloc((nuint)capacity, sizeof(int));
        _logits = (sbyte*)NativeMemory.Alloc((nuint)capacity, 1);
        for (var i = 0; i < capacity; i++)
        {
            _seqIds[i] = _seqIdStorage + i;
            _seqCounts[i] = 1;
        }
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    public int Remaining => Capacity - Count;

    internal LlamaBatch Native => new()
    {
        n_tokens = Count,
        token = _tokens,
        embd = null,
        pos = _positions,
        n_seq_id = _seqCounts,
        seq_id = _seqIds,
        logits = _logits,
    };

    public void Clear() => Count = 0;

    /// <summary>Adds a token and returns its batch index (the index to read its logits with).</summary>
    public int Add(int token, int position, int sequence, bool wantLogits)
    {
        if (Count >= Capacity)
        {
            throw new InvalidOperationException($"Batch is full ({Capacity} tokens).");
        }

        var i = Count++;
        _tokens[i] = token;
        _positions[i] = position;
        _seqIdStorage[i] = sequence;
        _logits[i] = wantLogits ? (sbyte)1 : (sbyte)0;
        return i;
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.Free(_tokens);
        NativeMemory.Free(_positions);
        NativeMemory.Free(_seqCounts);
        NativeMemory.Free(_seqIds);
        NativeMemory.Free(_seqIdStorage);
        NativeMemory.Free(_logits);
    }
}
