using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AgentTheater.Inference.Engine;

/// <summary>
/// Text pieces of one generation as the pool makes them, and the final <see cref="GenerationResult"/>.
/// Enumerate it to stream; await <see cref="Completion"/> for the whole result (enumerating is optional).
/// </summary>
public sealed class StreamingGeneration : IAsyncEnumerable<string>
{
    private readonly ChannelReader<string> _pieces;
    private readonly Action _cancel;

    internal StreamingGeneration(ChannelReader<string> pieces, Task<GenerationResult> completion, Action cancel)
    {
        _pieces = pieces;
        Completion = completion;
        _cancel = cancel;
    }

    /// <summary>Completes with the result, or fails with the reason the request failed.</summary>
    public Task<GenerationResult> Completion { get; }

    /// <inheritdoc />
    public async IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        using var registration = cancellationToken.Register(_cancel);
        await foreach (var piece in ReadAll(cancellationToken))
        {
            yield return piece;
        }

        await Completion;
    }

    private async IAsyncEnumerable<string> ReadAll([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _pieces.WaitToReadAsync(cancellationToken))
        {
            while (_pieces.TryRead(out var piece))
            {
                yield return piece;
            }
        }
    }
}
