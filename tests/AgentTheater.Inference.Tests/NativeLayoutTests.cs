using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// Checks every struct of NativeStructs.cs against llama.h (b7347) as gcc lays it out: size, alignment and the
/// offset and size of every field. Offsets on the C# side are measured as the runtime lays the struct out in memory,
/// which is what LibraryImport passes with runtime marshalling disabled; Marshal.SizeOf and Marshal.OffsetOf
/// describe the classic marshalled layout (bool as four bytes) and would not.
/// </summary>
public sealed class NativeLayoutTests(NativeHeaderLayout header) : IClassFixture<NativeHeaderLayout>
{
    /// <summary>Every struct that crosses into llama.cpp: its C name, its C# mirror and every C field's C# field.</summary>
    private static readonly Dictionary<string, Mirror> Mirrors = new Mirror[]
    {
        new("llama_model_params", typeof(LlamaModelParams),
            ("devices", nameof(LlamaModelParams.devices)),
            ("tensor_buft_overrides", nameof(LlamaModelParams.tensor_buft_overrides)),
            ("n_gpu_layers", nameof(LlamaModelParams.n_gpu_layers)),
            ("split_mode", nameof(LlamaModelParams.split_mode)),
            ("main_gpu", nameof(LlamaModelParams.main_gpu)),
            ("tensor_split", nameof(LlamaModelParams.tensor_split)),
            ("progress_callback", nameof(LlamaModelParams.progress_callback)),
            ("progress_callback_user_data", nameof(LlamaModelParams.progress_callback_user_data)),
            ("kv_overrides", nameof(LlamaModelParams.kv_overrides)),
            ("vocab_only", nameof(LlamaModelParams.vocab_only)),
            ("use_mmap", nameof(LlamaModelParams.use_mmap)),
            ("use_mlock", nameof(LlamaModelParams.use_mlock)),
            ("check_tensors", nameof(LlamaModelParams.check_tensors)),
            ("use_extra_bufts", nameof(LlamaModelParams.use_extra_bufts)),
            ("no_host", nameof(LlamaModelParams.no_host))),
        new("llama_context_params", typeof(LlamaContextParams),
            ("n_ctx", nameof(LlamaContextParams.n_ctx)),
            ("n_batch", nameof(LlamaContextParams.n_batch)),
            ("n_ubatch", nameof(LlamaContextParams.n_ubatch)),
            ("n_seq_max", nameof(LlamaContextParams.n_seq_max)),
            ("n_threads", nameof(LlamaContextParams.n_threads)),
            ("n_threads_batch", nameof(LlamaContextParams.n_threads_batch)),
            ("rope_scaling_type", nameof(LlamaContextParams.rope_scaling_type)),
            ("pooling_type", nameof(LlamaContextParams.pooling_type)),
            ("attention_type", nameof(LlamaContextParams.attention_type)),
            ("flash_attn_type", nameof(LlamaContextParams.flash_attn_type)),
            ("rope_freq_base", nameof(LlamaContextParams.rope_freq_base)),
            ("rope_freq_scale", nameof(LlamaContextParams.rope_freq_scale)),
            ("yarn_ext_factor", nameof(LlamaContextParams.yarn_ext_factor)),
            ("yarn_attn_factor", nameof(LlamaContextParams.yarn_attn_factor)),
            ("yarn_beta_fast", nameof(LlamaContextParams.yarn_beta_fast)),
            ("yarn_beta_slow", nameof(LlamaContextParams.yarn_beta_slow)),
            ("yarn_orig_ctx", nameof(LlamaContextParams.yarn_orig_ctx)),
            ("defrag_thold", nameof(LlamaContextParams.defrag_thold)),
            ("cb_eval", nameof(LlamaContextParams.cb_eval)),
            ("cb_eval_user_data", nameof(LlamaContextParams.cb_eval_user_data)),
            ("type_k", nameof(LlamaContextParams.type_k)),
            ("type_v", nameof(LlamaContextParams.type_v)),
            ("abort_callback", nameof(LlamaContextParams.abort_callback)),
            ("abort_callback_data", nameof(LlamaContextParams.abort_callback_data)),
            ("embeddings", nameof(LlamaContextParams.embeddings)),
            ("offload_kqv", nameof(LlamaContextParams.offload_kqv)),
            ("no_perf", nameof(LlamaContextParams.no_perf)),
            ("op_offload", nameof(LlamaContextParams.op_offload)),
            ("swa_full", nameof(LlamaContextParams.swa_full)),
            ("kv_unified", nameof(LlamaContextParams.kv_unified))),
        new("llama_batch", typeof(LlamaBatch),
            ("n_tokens", nameof(LlamaBatch.n_tokens)),
            ("token", nameof(LlamaBatch.token)),
            ("embd", nameof(LlamaBatch.embd)),
            ("pos", nameof(LlamaBatch.pos)),
            ("n_seq_id", nameof(LlamaBatch.n_seq_id)),
            ("seq_id", nameof(LlamaBatch.seq_id)),
            ("logits", nameof(LlamaBatch.logits))),
        new("llama_sampler_chain_params", typeof(LlamaSamplerChainParams),
            ("no_perf", nameof(LlamaSamplerChainParams.no_perf))),
        new("llama_chat_message", typeof(LlamaChatMessage),
            ("role", nameof(LlamaChatMessage.role)),
            ("content", nameof(LlamaChatMessage.content))),
        new("llama_token_data", typeof(LlamaTokenData),
            ("id", nameof(LlamaTokenData.id)),
            ("logit", nameof(LlamaTokenData.logit)),
            ("p", nameof(LlamaTokenData.p))),
        new("llama_token_data_array", typeof(LlamaTokenDataArray),
            ("data", nameof(LlamaTokenDataArray.data)),
            ("size", nameof(LlamaTokenDataArray.size)),
            ("selected", nameof(LlamaTokenDataArray.selected)),
            ("sorted", nameof(LlamaTokenDataArray.sorted))),
    }.ToDictionary(mirror => mirror.CName);

    public static TheoryData<string> Structs => new(Mirrors.Keys);

    [Theory]
    [MemberData(nameof(Structs))]
    public void NativeStruct_MatchesHeader(string cName)
    {
        var mirror = Mirrors[cName];
        var type = mirror.Type;
        Assert.True(header.Structs.TryGetValue(cName, out var c), $"Native/struct-layout.c prints nothing for struct {cName}; add it there");
        var problems = new List<string>();

        var size = ManagedLayout.SizeOf(type);
        if (size != c.Size)
        {
            problems.Add($"size: C {c.Size}, C# {size}");
        }

        var alignment = ManagedLayout.AlignmentOf(type);
        if (alignment != c.Alignment)
        {
            problems.Add($"alignment: C {c.Alignment}, C# {alignment}");
        }

        foreach (var (cField, cLayout) in c.Fields.OrderBy(field => field.Value.Offset))
        {
            if (!mirror.Fields.TryGetValue(cField, out var csField))
            {
                problems.Add($"C field {cField} (offset {cLayout.Offset}) has no row in NativeLayoutTests' table");
                continue;
            }

            var field = type.GetField(csField, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (field is null)
            {
                problems.Add($"C# field {type.Name}.{csField} does not exist");
                continue;
            }

            var offset = ManagedLayout.OffsetOf(field);
            if (offset != cLayout.Offset)
            {
                problems.Add($"{cField}: C offset {cLayout.Offset}, C# {type.Name}.{csField} offset {offset}");
            }

            var fieldSize = ManagedLayout.SizeOf(field.FieldType);
            if (fieldSize != cLayout.Size)
            {
                problems.Add($"{cField}: C size {cLayout.Size}, C# {type.Name}.{csField} ({field.FieldType.Name}) size {fieldSize}");
            }
        }

        foreach (var cField in mirror.Fields.Keys.Where(cField => !c.Fields.ContainsKey(cField)))
        {
            problems.Add($"table row {cField} is not a field that Native/struct-layout.c prints for {cName}");
        }

        var mapped = mirror.Fields.Values.ToHashSet();
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Where(field => !mapped.Contains(field.Name)))
        {
            problems.Add($"C# field {type.Name}.{field.Name} has no C counterpart in NativeLayoutTests' table");
        }

        if (problems.Count > 0)
        {
            Assert.Fail($"{type.Name} does not match struct {cName} of {header.SourceDirectory}/include/llama.h:\n  {string.Join("\n  ", problems)}");
        }
    }

    [Fact]
    public void EveryStructPassedToLlamaCpp_HasARow()
    {
        var crossing = new HashSet<Type>();
        foreach (var method in typeof(LlamaApi).GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
        {
            AddStructs(method.ReturnType, crossing);
            foreach (var parameter in method.GetParameters())
            {
                AddStructs(parameter.ParameterType, crossing);
            }
        }

        Assert.NotEmpty(crossing);
        var missing = crossing.Where(type => Mirrors.Values.All(mirror => mirror.Type != type)).Select(type => type.Name).Order().ToList();
        if (missing.Count > 0)
        {
            Assert.Fail($"LlamaApi passes structs to llama.cpp that NativeLayoutTests does not check: {string.Join(", ", missing)}. "
                + "Add a row to the table and the struct to Native/struct-layout.c.");
        }
    }

    /// <summary>Collects the structs of the Inference assembly a native signature reaches, through pointers and struct fields.</summary>
    private static void AddStructs(Type type, HashSet<Type> structs)
    {
        while (type.HasElementType)
        {
            type = type.GetElementType()!;
        }

        if (type.IsFunctionPointer)
        {
            AddStructs(type.GetFunctionPointerReturnType(), structs);
            foreach (var parameter in type.GetFunctionPointerParameterTypes())
            {
                AddStructs(parameter, structs);
            }

            return;
        }

        if (!type.IsValueType || type.IsEnum || type.Assembly != typeof(LlamaApi).Assembly || !structs.Add(type))
        {
            return;
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AddStructs(field.FieldType, structs);
        }
    }

    private sealed class Mirror(string cName, Type type, params (string C, string CSharp)[] fields)
    {
        public string CName { get; } = cName;

        public Type Type { get; } = type;

        /// <summary>C# field name by C field name.</summary>
        public Dictionary<string, string> Fields { get; } = fields.ToDictionary(field => field.C, field => field.CSharp);
    }

    /// <summary>Sizes and offsets as the runtime lays a struct out in memory, measured with small IL methods.</summary>
    private static class ManagedLayout
    {
        public static int SizeOf(Type type)
        {
            var method = NewMethod($"SizeOf_{type.Name}");
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Sizeof, type);
            il.Emit(OpCodes.Conv_I);
            il.Emit(OpCodes.Ret);
            return checked((int)method.CreateDelegate<Func<nint>>()());
        }

        /// <summary>The address of the field minus the address of the struct, both taken from a local.</summary>
        public static int OffsetOf(FieldInfo field)
        {
            var method = NewMethod($"OffsetOf_{field.DeclaringType!.Name}_{field.Name}");
            var il = method.GetILGenerator();
            il.DeclareLocal(field.DeclaringType);
            il.Emit(OpCodes.Ldloca_S, (byte)0);
            il.Emit(OpCodes.Ldflda, field);
            il.Emit(OpCodes.Ldloca_S, (byte)0);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Ret);
            return checked((int)method.CreateDelegate<Func<nint>>()());
        }

        /// <summary>Where the runtime places the struct after a single byte.</summary>
        public static int AlignmentOf(Type type) =>
            OffsetOf(typeof(AlignmentProbe<>).MakeGenericType(type).GetField(nameof(AlignmentProbe<byte>.Value))!);

        private static DynamicMethod NewMethod(string name) =>
            new(name, typeof(nint), Type.EmptyTypes, typeof(NativeLayoutTests).Module, skipVisibility: true);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct AlignmentProbe<T>
        where T : unmanaged
    {
        public byte Pad;
        public T Value;
    }
}
