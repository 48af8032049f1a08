using System.Runtime.InteropServices;

namespace AgentTheater.Inference.Native;

/// <summary>
/// P/Invoke declarations for the parts of llama.h (b7347) and ggml-backend.h the engine uses.
/// Library names are resolved to the chosen native folder by <see cref="LlamaLibrary"/>.
/// </summary>
internal static unsafe partial class LlamaApi
{
    internal const string Llama = "llama";
    internal const string Ggml = "ggml";
    internal const string GgmlBase = "ggml-base";

    // ggml backend registry

    [LibraryImport(Ggml, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void ggml_backend_load_all_from_path(string dirPath);

    [LibraryImport(Ggml)]
    internal static partial nuint ggml_backend_dev_count();

    [LibraryImport(Ggml)]
    internal static partial IntPtr ggml_backend_dev_get(nuint index);

    [LibraryImport(GgmlBase)]
    internal static partial byte* ggml_backend_dev_name(IntPtr device);

    [LibraryImport(GgmlBase)]
    internal static partial byte* ggml_backend_dev_description(IntPtr device);

    [LibraryImport(GgmlBase)]
    internal static partial int ggml_backend_dev_type(IntPtr device);

    // backend and logging

    [LibraryImport(Llama)]
    internal static partial void llama_backend_init();

    [LibraryImport(Llama)]
    internal static partial void llama_log_set(delegate* unmanaged[Cdecl]<int, byte*, void*, void> callback, void* userData);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_supports_gpu_offload();

    [LibraryImport(Llama)]
    internal static partial nuint llama_max_parallel_sequences();

    [LibraryImport(Llama)]
    internal static partial byte* llama_print_system_info();

    // defaults

    [LibraryImport(Llama)]
    internal static partial LlamaModelParams llama_model_default_params();

    [LibraryImport(Llama)]
    internal static partial LlamaContextParams llama_context_default_params();

    [LibraryImport(Llama)]
    internal static partial LlamaSamplerChainParams llama_sampler_chain_default_params();

    // model

    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr llama_model_load_from_file(string path, LlamaModelParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_model_free(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_model_get_vocab(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_ctx_train(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_embd(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_layer(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_head(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_head_kv(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial ulong llama_model_size(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial ulong llama_model_n_params(IntPtr model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_desc(IntPtr model, byte* buffer, nuint bufferSize);

    [LibraryImport(Llama)]
    internal static partial byte* llama_model_chat_template(IntPtr model, byte* name);

    // context

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_init_from_model(IntPtr model, LlamaContextParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_free(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ctx(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ctx_seq(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_batch(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ubatch(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_seq_max(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_get_memory(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial int llama_decode(IntPtr context, LlamaBatch batch);

    [LibraryImport(Llama)]
    internal static partial void llama_synchronize(IntPtr context);

    [LibraryImport(Llama)]
    internal static partial float* llama_get_logits_ith(IntPtr context, int i);

    // memory (KV cache) per sequence

    [LibraryImport(Llama)]
    internal static partial void llama_memory_clear(IntPtr memory, [MarshalAs(UnmanagedType.U1)] bool data);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_memory_seq_rm(IntPtr memory, int seqId, int p0, int p1);

    [LibraryImport(Llama)]
    internal static partial void llama_memory_seq_cp(IntPtr memory, int seqIdSrc, int seqIdDst, int p0, int p1);

    [LibraryImport(Llama)]
    internal static partial void llama_memory_seq_add(IntPtr memory, int seqId, int p0, int p1, int delta);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_memory_can_shift(IntPtr memory);

    [LibraryImport(Llama)]
    internal static partial int llama_memory_seq_pos_min(IntPtr memory, int seqId);

    [LibraryImport(Llama)]
    internal static partial int llama_memory_seq_pos_max(IntPtr memory, int seqId);

    // state per sequence

    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_get_size(IntPtr context, int seqId);

    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_get_data(IntPtr context, byte* destination, nuint size, int seqId);

    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_set_data(IntPtr context, byte* source, nuint size, int destSeqId);

    // vocabulary and tokens

    [LibraryImport(Llama)]
    internal static partial int llama_vocab_n_tokens(IntPtr vocab);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_is_eog(IntPtr vocab, int token);

    [LibraryImport(Llama)]
    internal static partial int llama_vocab_bos(IntPtr vocab);

    [LibraryImport(Llama)]
    internal static partial int llama_vocab_eos(IntPtr vocab);

    [LibraryImport(Llama)]
    internal static partial int llama_vocab_type(IntPtr vocab);

    [LibraryImport(Llama)]
    internal static partial int llama_vocab_get_attr(IntPtr vocab, int token);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_get_add_bos(IntPtr vocab);

    [LibraryImport(Llama)]
    internal static partial int llama_tokenize(
        IntPtr vocab,
        byte* text,
        int textLength,
        int* tokens,
        int maxTokens,
        [MarshalAs(UnmanagedType.U1)] bool addSpecial,
        [MarshalAs(UnmanagedType.U1)] bool parseSpecial);

    [LibraryImport(Llama)]
    internal static partial int llama_token_to_piece(
        IntPtr vocab,
        int token,
        byte* buffer,
        int length,
        int lstrip,
        [MarshalAs(UnmanagedType.U1)] bool special);

    [LibraryImport(Llama)]
    internal static partial int llama_chat_apply_template(
        byte* template,
        LlamaChatMessage* messages,
        nuint count,
        [MarshalAs(UnmanagedType.U1)] bool addAssistant,
        byte* buffer,
        int length);

    // sampling

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_chain_init(LlamaSamplerChainParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_chain_add(IntPtr chain, IntPtr sampler);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_greedy();

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_dist(uint seed);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_top_k(int k);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_top_p(float p, nuint minKeep);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_min_p(float p, nuint minKeep);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_temp(float t);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_init_penalties(int lastN, float repeat, float frequency, float present);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_accept(IntPtr sampler, int token);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_apply(IntPtr sampler, LlamaTokenDataArray* candidates);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_reset(IntPtr sampler);

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_sampler_clone(IntPtr sampler);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_free(IntPtr sampler);

    [LibraryImport(Llama)]
    internal static partial int llama_sampler_sample(IntPtr sampler, IntPtr context, int index);
}
