namespace AgentTheater.Inference.Engine;

/// <summary>
/// The host-memory tier of the pool's KV cache: the state of sessions whose sequence was given to another session
/// (<c>llama_state_seq_get_data</c>), kept within a byte budget and dropped least recently saved first, so a session
/// that comes back is restored (<c>llama_state_seq_set_data</c>) and prefills only what is new. Used on the scheduler
/// thread only; the byte count is read from any thread.
/// </summary>
internal sealed class HostKvTier(long budgetBytes)
{
    private readonly Dictionary<string, SavedSequence> _saved = new(StringComparer.Ordinal);
    private long _bytes;
    private long _clock;

    /// <summary>Bytes of KV state held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Sessions held.</summary>
    public int Count => _saved.Count;

    /// <summary>The budget in bytes.</summary>
    public long BudgetBytes { get; } = budgetBytes;

    /// <summary>
    /// Keeps <paramref name="session"/>'s state, dropping the least recently saved sessions to make room (each handed to
    /// <paramref name="dropped"/>); false, and nothing kept, when the state alone is larger than the budget.
    /// </summary>
    public bool Save(string session, byte[] state, int[] tokens, Action<string, SavedSequence> dropped)
    {
        Remove(session);
        if (state.Length > BudgetBytes)
        {
            return false;
        }

        while (_bytes + state.Length > BudgetBytes && _saved.Count > 0)
        {
            var (oldest, saved) = _saved.MinBy(s => s.Value.Saved);
            Remove(oldest);
            dropped(oldest, saved);
        }

        _saved[session] = new SavedSequence(state, tokens, ++_clock);
        Interlocked.Add(ref _bytes, state.Length);
        return true;
    }

    /// <summary>The saved state of <paramref name="session"/>, or null.</summary>
    public SavedSequence? Find(string session) => _saved.GetValueOrDefault(session);

    /// <summary>Drops <paramref name="session"/>'s state, if held.</summary>
    public void Remove(string session)
    {
        if (_saved.Remove(session, out var removed))
        {
            Interlocked.Add(ref _bytes, -removed.State.Length);
        }
    }
}

/// <summary>One session's KV state as <c>llama_state_seq_get_data</c> wrote it, and the tokens it holds.</summary>
/// <param name="State">The serialised sequence.</param>
/// <param name="Tokens">The tokens at positions 0..Count-1.</param>
/// <param name="Saved">When it was saved (the tier's own clock).</param>
internal sealed record SavedSequence(byte[] State, int[] Tokens, long Saved);
