// Prints the layout of the llama.h structs that AgentTheater mirrors in src/Inference/Native/NativeStructs.cs,
// as the C compiler sees them, for NativeLayoutTests. One line each:
//   <struct> sizeof <bytes>
//   <struct> alignof <bytes>
//   <struct> <field> <offset> <size>
// Every struct lists all of its fields. The positional initializer below each list has one value per listed
// field, and the test compiles with -Werror=missing-field-initializers, so a field added to the header that
// is not listed here stops the compile instead of hiding in padding.
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#include "llama.h"

#define PRINT_FIELD(type, field) \
    printf("%s %s %zu %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field));
#define FIELD_ZERO(type, field) 0,
#define STRUCT(type, FIELDS)                                                   \
    static void print_##type(void)                                             \
    {                                                                          \
        static const struct type all_fields_listed = { FIELDS(type, FIELD_ZERO) }; \
        (void)all_fields_listed;                                               \
        printf("%s sizeof %zu\n", #type, sizeof(struct type));                 \
        printf("%s alignof %zu\n", #type, alignof(struct type));               \
        FIELDS(type, PRINT_FIELD)                                             \
    }

#define LLAMA_MODEL_PARAMS(t, X) \
    X(t, devices)                \
    X(t, tensor_buft_overrides)  \
    X(t, n_gpu_layers)           \
    X(t, split_mode)             \
    X(t, main_gpu)               \
    X(t, tensor_split)           \
    X(t, progress_callback)      \
    X(t, progress_callback_user_data) \
    X(t, kv_overrides)           \
    X(t, vocab_only)             \
    X(t, use_mmap)               \
    X(t, use_mlock)              \
    X(t, check_tensors)          \
    X(t, use_extra_bufts)        \
    X(t, no_host)
STRUCT(llama_model_params, LLAMA_MODEL_PARAMS)

#define LLAMA_CONTEXT_PARAMS(t, X) \
    X(t, n_ctx)                    \
    X(t, n_batch)                  \
    X(t, n_ubatch)                 \
    X(t, n_seq_max)                \
    X(t, n_threads)                \
    X(t, n_threads_batch)          \
    X(t, rope_scaling_type)        \
    X(t, pooling_type)             \
    X(t, attention_type)           \
    X(t, flash_attn_type)          \
    X(t, rope_freq_base)           \
    X(t, rope_freq_scale)          \
    X(t, yarn_ext_factor)          \
    X(t, yarn_attn_factor)         \
    X(t, yarn_beta_fast)           \
    X(t, yarn_beta_slow)           \
    X(t, yarn_orig_ctx)            \
    X(t, defrag_thold)             \
    X(t, cb_eval)                  \
    X(t, cb_eval_user_data)        \
    X(t, type_k)                   \
    X(t, type_v)                   \
    X(t, abort_callback)           \
    X(t, abort_callback_data)      \
    X(t, embeddings)               \
    X(t, offload_kqv)              \
    X(t, no_perf)                  \
    X(t, op_offload)               \
    X(t, swa_full)                 \
    X(t, kv_unified)
STRUCT(llama_context_params, LLAMA_CONTEXT_PARAMS)

#define LLAMA_BATCH(t, X) \
    X(t, n_tokens)        \
    X(t, token)           \
    X(t, embd)            \
    X(t, pos)             \
    X(t, n_seq_id)        \
    X(t, seq_id)          \
    X(t, logits)
STRUCT(llama_batch, LLAMA_BATCH)

#define LLAMA_SAMPLER_CHAIN_PARAMS(t, X) \
    X(t, no_perf)
STRUCT(llama_sampler_chain_params, LLAMA_SAMPLER_CHAIN_PARAMS)

#define LLAMA_CHAT_MESSAGE(t, X) \
    X(t, role)                   \
    X(t, content)
STRUCT(llama_chat_message, LLAMA_CHAT_MESSAGE)

#define LLAMA_TOKEN_DATA(t, X) \
    X(t, id)                   \
    X(t, logit)                \
    X(t, p)
STRUCT(llama_token_data, LLAMA_TOKEN_DATA)

#define LLAMA_TOKEN_DATA_ARRAY(t, X) \
    X(t, data)                       \
    X(t, size)                       \
    X(t, selected)                   \
    X(t, sorted)
STRUCT(llama_token_data_array, LLAMA_TOKEN_DATA_ARRAY)

int main(void)
{
    print_llama_model_params();
    print_llama_context_params();
    print_llama_batch();
    print_llama_sampler_chain_params();
    print_llama_chat_message();
    print_llama_token_data();
    print_llama_token_data_array();
    return 0;
}
