using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Native;

/// <summary>
/// One sequence's sampler: a llama.cpp sampler chain applied to logits the pool has already read, so many
/// sequences can sample in parallel without touching the context. Greedy sampling is a plain argmax.
/// </summary>
internal sealed class TokenSampler : IDisposable
{
    private readonly SafeLlamaSamplerHandle? _chain;
    private LlamaTokenData[]? _candidates;

    public TokenSampler(SamplingOptions options, ReadOnlySpan<int> history)
    {
        Options = options;
        if (options.IsGreedy)
        {
            return;
        }

        var chain = LlamaApi.llama_sampler_chain_init(LlamaApi.llama_sampler_chain_default_params());
        if (options.HasPenalties)
        {
            LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_penalties(options.RepetitionLastN, options.RepetitionPenalty, options.FrequencyPenalty, options.PresencePenalty));
        }

        if (options.Temperature == 0)
        {
            LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_greedy());
        }
        else
        {
            if (options.TopK > 0)
            {
                LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_top_k(options.TopK));
            }

            if (options.TopP < 1)
            {
                LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_top_p(options.TopP, 1));
            }

            if (options.MinP > 0)
            {
                LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_min_p(options.MinP, 1));
            }

            LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_temp(options.Temperature));
            LlamaApi.llama_sampler_chain_add(chain, LlamaApi.llama_sampler_init_dist(options.Seed ?? (uint)Random.Shared.Next()));
        }

        _chain = new SafeLlamaSamplerHandle();
        Marshal.InitHandle(_chain, chain);
        if (options.HasPenalties)
        {
            var start = Math.Max(0, history.Length - options.RepetitionLastN);
            foreach (var token in history[start..])
            {
                LlamaApi.llama_sampler_accept(chain, token);
            }
        }
    }

    private TokenSampler(SamplingOptions options, SafeLlamaSamplerHandle? chain)
    {
        Options = options;
        _chain = chain;
    }

    public SamplingOptions Options { get; }

    /// <summary>Picks the next token from <paramref name="logits"/> and records it in the chain's history.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_chain is null)
        {
            return TensorPrimitives.IndexOfMax(logits);
        }

        var candidates = _candidates ??= new LlamaTokenData[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            candidates[i] = new LlamaTokenData { id = i, logit = logits[i], p = 0 };
        }

        var chain = _chain.DangerousGetHandle();
        int token;
        unsafe
        {
            fixed (LlamaTokenData* data = candidates)
            {
                var array = new LlamaTokenDataArray { data = data, size = (nuint)logits.Length, selected = -1, sorted = false };
                LlamaApi.llama_sampler_apply(chain, &array);
                if (array.selected < 0 || array.selected >= (long)array.size)
                {
                    throw new InvalidOperationException("The sampler chain selected no token.");
                }

                token = array.data[array.selected].id;
            }
        }

        LlamaApi.llama_sampler_accept(chain, token);
        return token;
    }

    /// <summary>A copy with the same state (seeded RNG position and history), for forks.</summary>
    public TokenSampler Clone()
    {
        if (_chain is null)
        {
            return new TokenSampler(Options, (SafeLlamaSamplerHandle?)null);
        }

        var copy = new SafeLlamaSamplerHandle();
        Marshal.InitHandle(copy, LlamaApi.llama_sampler_clone(_chain.DangerousGetHandle()));
        return new TokenSampler(Options, copy);
    }

    public void Dispose() => _chain?.Dispose();
}
