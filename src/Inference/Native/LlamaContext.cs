using System.Runtime.InteropServices;

namespace AgentTheater.Inference.Native;

/// <summary>Settings for <see cref="LlamaContext"/>.</summary>
internal readonly record struct LlamaContextSettings(
    int SequenceContextLength,
    int MaxSequences,
    int BatchSize,
    int MicroBatchSize,
    int Threads,
    bool UnifiedKv,
    bool FlashAttention);

/// <summary>
/// A llama.cpp context: one KV memory with many sequences. Not thread-safe: only the pool's scheduler
/// thread touches it.
/// </summary>
internal sealed class LlamaContext : IDisposable
{
    private readonly SafeLlamaContextHandle _handle;
    private readonly IntPtr _memory;

    public LlamaContext(LlamaModel model, LlamaContextSettings settings)
    {
        var parameters = LlamaApi.llama_context_default_params();
        parameters.n_seq_max = (uint)settings.MaxSequences;
        parameters.n_ctx = (uint)(settings.SequenceContextLength * settings.MaxSequences);
        parameters.n_batch = (uint)settings.BatchSize;
        parameters.n_ubatch = (uint)Math.Min(settings.MicroBatchSize, settings.BatchSize);
        parameters.n_threads = settings.Threads;
        parameters.n_threads_batch = settings.Threads;
        parameters.kv_unified = settings.UnifiedKv;
        parameters.flash_attn_type = settings.FlashAttention ? -1 : 0;
        parameters.no_perf = true;
        _ = LlamaLibrary.TakeRecentErrors();
        var pointer = LlamaApi.llama_init_from_model(model.Handle, parameters);
        if (pointer == IntPtr.Zero)
        {
            throw new InvalidOperationException($"llama.cpp could not create a context ({settings}): {LlamaLibrary.TakeRecentErrors()}");
        }

        _handle = new SafeLlamaContextHandle();
        Marshal.InitHandle(_handle, pointer);
        _memory = LlamaApi.llama_get_memory(pointer);
        VocabularySize = model.VocabularySize;
        ContextLength = (int)LlamaApi.llama_n_ctx(pointer);
        SequenceContextLength = (int)LlamaApi.llama_n_ctx_seq(pointer);
        BatchSize = (int)LlamaApi.llama_n_batch(pointer);
        MicroBatchSize = (int)LlamaApi.llama_n_ubatch(pointer);
        MaxSequences = (int)LlamaApi.llama_n_seq_max(pointer);
    }

    public int VocabularySize { get; }

    public int ContextLength { get; }

    public int SequenceContextLength { get; }

    public int BatchSize { get; }

    public int MicroBatchSize { get; }

    public int MaxSequences { get; }

    private IntPtr Pointer => _handle.DangerousGetHandle();

    /// <summary>Runs <c>llama_decode</c>; 0 is success (see llama.h for the other codes).</summary>
    public int Decode(NativeBatch batch) => LlamaApi.llama_decode(Pointer, batch.Native);

    /// <summary>Logits of the output at batch index <paramref name="batchIndex"/>; valid until the next decode.</summary>
    public ReadOnlySpan<float> Logits(int batchIndex)
    {
        unsafe
        {
            var logits = LlamaApi.llama_get_logits_ith(Pointer, batchIndex);
            if (logits is null)
            {
                throw new InvalidOperationException($"llama.cpp has no logits for batch index {batchIndex}.");
            }

            return new ReadOnlySpan<float>(logits, VocabularySize);
        }
    }

    public void Synchronize() => LlamaApi.llama_synchronize(Pointer);

    /// <summary>
    /// Samples one token for each output at <paramref name="batchIndices"/> with its sampler. The logits are
    /// read once on this thread; the samplers then run on the thread pool when <paramref name="parallel"/>.
    /// </summary>
    public void Sample(int[] batchIndices, TokenSampler[] samplers, int[] tokens, bool parallel)
    {
        var rows = new IntPtr[batchIndices.Length];
        unsafe
        {
            for (var i = 0; i < rows.Length; i++)
            {
                var logits = LlamaApi.llama_get_logits_ith(Pointer, batchIndices[i]);
                if (logits is null)
                {
                    throw new InvalidOperationException($"llama.cpp has no logits for batch index {batchIndices[i]}.");
                }

                rows[i] = (IntPtr)logits;
            }
        }

        var vocabulary = VocabularySize;
        if (parallel)
        {
            Parallel.For(0, rows.Length, i => tokens[i] = SampleRow(samplers[i], rows[i], vocabulary));
        }
        else
        {
            for (var i = 0; i < rows.Length; i++)
            {
                tokens[i] = SampleRow(samplers[i], rows[i], vocabulary);
            }
        }
    }

    private static unsafe int SampleRow(TokenSampler sampler, IntPtr row, int vocabulary) =>
        sampler.Sample(new ReadOnlySpan<float>((void*)row, vocabulary));

    /// <summary>Removes positions [p0, p1) of <paramref name="sequence"/> (negative: open end).</summary>
    public bool RemoveTokens(int sequence, int p0 = -1, int p1 = -1) => LlamaApi.llama_memory_seq_rm(_memory, sequence, p0, p1);

    /// <summary>Copies the whole of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void CopySequence(int source, int destination) => LlamaApi.llama_memory_seq_cp(_memory, source, destination, -1, -1);

    /// <summary>
    /// Whether cached positions can be moved (<c>llama_memory_can_shift</c>): true for the usual RoPE attention caches,
    /// false for models whose memory cannot shift (recurrent state, some position encodings).
    /// </summary>
    public bool CanShift => LlamaApi.llama_memory_can_shift(_memory);

    /// <summary>
    /// Adds <paramref name="delta"/> to the positions in [<paramref name="p0"/>, <paramref name="p1"/>) of
    /// <paramref name="sequence"/> (<c>llama_memory_seq_add</c>; the keys are re-rotated on the next decode).
    /// </summary>
    public void ShiftPositions(int sequence, int p0, int p1, int delta) => LlamaApi.llama_memory_seq_add(_memory, sequence, p0, p1, delta);

    /// <summary>Highest position held for <paramref name="sequence"/>, -1 when empty.</summary>
    public int MaxPosition(int sequence) => LlamaApi.llama_memory_seq_pos_max(_memory, sequence);

    /// <summary>Clears every sequence.</summary>
    public void Clear() => LlamaApi.llama_memory_clear(_memory, true);

    /// <summary>Serialises one sequence's KV state.</summary>
    public byte[] SaveSequence(int sequence)
    {
        var size = (int)LlamaApi.llama_state_seq_get_size(Pointer, sequence);
        var data = new byte[size];
        unsafe
        {
            fixed (byte* d = data)
            {
                var written = (int)LlamaApi.llama_state_seq_get_data(Pointer, d, (nuint)size, sequence);
                return data[..written];
            }
        }
    }

    /// <summary>Restores a sequence saved by <see cref="SaveSequence"/>; false when llama.cpp refuses it.</summary>
    public bool RestoreSequence(int sequence, byte[] state)
    {
        RemoveTokens(sequence);
        unsafe
        {
            fixed (byte* s = state)
            {
                return LlamaApi.llama_state_seq_set_data(Pointer, s, (nuint)state.Length, sequence) != 0;
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
