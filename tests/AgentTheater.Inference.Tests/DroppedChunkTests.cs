using AgentTheater.Inference.Engine;

namespace AgentTheater.Inference.Tests;

/// <summary>Finding the chunk a prompt dropped from what its session caches.</summary>
public sealed class DroppedChunkTests
{
    [Fact]
    public void Find_PromptDroppedTheOldestLines_FindsThemAndTheKeptRest()
    {
        int[] cached = [1, 2, 3, /* dropped */ 10, 11, 12, 13, /* kept */ 20, 21, 22, 23, 24];
        int[] prompt = [1, 2, 3, 20, 21, 22, 23, 24, /* new */ 30, 31];

        Assert.Equal((4, 5), DroppedChunk.Find(cached, prompt, prefix: 3));
    }

    [Fact]
    public void Find_KeptRunStopsWhereThePromptDiffers()
    {
        int[] cached = [1, 9, 9, 5, 6, 7, 8];
        int[] prompt = [1, 5, 6, 0, 0];

        Assert.Equal((2, 2), DroppedChunk.Find(cached, prompt, prefix: 1));
    }

    [Fact]
    public void Find_PromptOnlyExtendsTheCache_FindsNothing()
    {
        int[] cached = [1, 2, 3];

        Assert.Equal((0, 0), DroppedChunk.Find(cached, [1, 2, 3, 4], prefix: 3));
        Assert.Equal((0, 0), DroppedChunk.Find(cached, [1, 2, 7, 8], prefix: 2));
    }

    [Fact]
    public void Find_SeveralCandidates_TakesTheOneThatKeepsTheMost()
    {
        int[] cached = [0, 5, 6, 1, 5, 6, 7, 8];
        int[] prompt = [0, 5, 6, 7, 8];

        Assert.Equal((3, 4), DroppedChunk.Find(cached, prompt, prefix: 1));
    }
}
