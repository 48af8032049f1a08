using System.ComponentModel.DataAnnotations;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Engine;

/// <summary>Configuration of the <see cref="InferencePool"/> (section <c>Inference</c>).</summary>
public sealed class InferencePoolOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Inference";

    /// <summary>GGUF model to load.</summary>
    [Required]
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>Folder to load llama.cpp from; empty for <c>AGENTTHEATER_NATIVE_DIR</c> or the automatic choice.</summary>
    public string? NativeDirectory { get; set; }

    /// <summary>Sequences (slots) in the one context: how many sessions keep their KV at once. At most 256.</summary>
    [Range(1, 256)]
    public int MaxSequences { get; set; } = 64;

    /// <summary>Tokens each sequence may hold (prompt and generation together).</summary>
    [Range(32, 1 << 20)]
    public int SequenceContextLength { get; set; } = 2048;

    /// <summary>Most tokens in one <c>llama_decode</c> (decode tokens of every running sequence plus prompt chunks).</summary>
    [Range(1, 1 << 16)]
    public int BatchSize { get; set; } = 512;

    /// <summary>Physical micro-batch size llama.cpp splits a batch into.</summary>
    [Range(1, 1 << 16)]
    public int MicroBatchSize { get; set; } = 512;

    /// <summary>CPU threads for llama.cpp; 0 uses the cores this process may run on.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>Layers to offload to the GPU; -1 for all.</summary>
    [Range(-1, 10_000)]
    public int GpuLayers { get; set; } = -1;

    /// <summary>Requests admitted but not finished, at most; beyond this callers wait (or, without <see cref="WaitWhenBusy"/>, get <see cref="InferencePoolBusyException"/>).</summary>
    [Range(1, 1_000_000)]
    public int MaxQueuedRequests { get; set; } = 4096;

    /// <summary>
    /// When the queue is full, callers wait for room, each as long as its cancellation token allows (on a silo, the grain
    /// call's timeout), rather than fail at once with <see cref="InferencePoolBusyException"/>: a busy pool slows scenes
    /// down instead of failing them. Off only where a caller would rather be told at once.
    /// </summary>
    public bool WaitWhenBusy { get; set; } = true;

    /// <summary>Sample sequences on several threads when at least this many need a token in one step.</summary>
    [Range(1, 1 << 16)]
    public int ParallelSamplingThreshold { get; set; } = 16;

    /// <summary>Share one KV buffer across sequences. Off by default: at 256 sequences unified KV decodes 4x slower.</summary>
    public bool UnifiedKv { get; set; }

    /// <summary>
    /// When a session's next prompt drops a chunk of what its sequence caches (a character's context budget dropping
    /// its oldest lines), remove those cells and move the rest back (<c>llama_memory_seq_rm</c> and
    /// <c>llama_memory_seq_add</c>) instead of prefilling the rest again. Only where the model's memory can shift. The
    /// kept tokens' cache still reflects the dropped ones they attended to: docs/performance.md measures how far that
    /// moves the next line's log-probabilities (<c>bench shift</c>).
    /// </summary>
    public bool ContextShift { get; set; } = true;

    /// <summary>
    /// Host memory, in megabytes, for the KV state of sessions whose sequence went to another session: an evicted
    /// session is saved there and restored when it returns, instead of prefilled again. 0 turns the tier off; -1 (the
    /// default) takes an eighth of the memory this process may use.
    /// </summary>
    [Range(-1, 1 << 24)]
    public int HostKvMegabytes { get; set; } = -1;

    /// <summary>
    /// Folder for the KV state of evicted sessions the host tier has no room for (null or empty: no disk tier). Created
    /// if missing; the pool refuses to start when it cannot be written.
    /// </summary>
    public string? DiskKvDirectory { get; set; }

    /// <summary>Most megabytes of spill files in <see cref="DiskKvDirectory"/>; the oldest written go first.</summary>
    [Range(1, 1 << 24)]
    public int DiskKvMegabytes { get; set; } = 4096;

    /// <summary>The host tier's budget in bytes (<see cref="HostKvMegabytes"/> resolved).</summary>
    public long HostKvBytes => HostKvMegabytes >= 0 ? HostKvMegabytes * (1L << 20) : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8;

    /// <summary>
    /// Flash attention: true or false, or null (the default) for on where the model's layers run on a GPU and off on
    /// the CPU. Measured on the CPU with the project's model (docs/performance.md, "CPU step cost"): flash attention
    /// prefills 2.7 times slower and decodes up to 2.6 times slower.
    /// </summary>
    public bool? FlashAttention { get; set; }

    /// <summary><see cref="FlashAttention"/> resolved for <paramref name="backend"/>.</summary>
    public bool FlashAttentionFor(LlamaBackendKind backend) => FlashAttention ?? (backend != LlamaBackendKind.Cpu && GpuLayers != 0);

    /// <summary>The thread count llama.cpp is given.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount);

    /// <summary>Throws <see cref="ValidationException"/> naming the first invalid setting.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <summary>Rules across settings; run by <see cref="Validate()"/> and by the options pipeline's data-annotation validation.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (MicroBatchSize > BatchSize)
        {
            yield return new ValidationResult(
                $"{SectionName}:MicroBatchSize ({MicroBatchSize}) must not exceed {SectionName}:BatchSize ({BatchSize}).",
                [nameof(MicroBatchSize)]);
        }
    }
}
