using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Native;

[assembly: AssemblyFixture(typeof(AgentTheater.Inference.Tests.TinyModelFixture))]

// llama.cpp's CPU threads spin while they wait for each other: two pools decoding at once on a 2-core machine slow
// each other down by orders of magnitude. Test classes therefore run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace AgentTheater.Inference.Tests;

/// <summary>A tiny synthetic llama model written once per test run and loaded through the real llama.cpp.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"agent-theater-tests-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        ModelPath = Path.Combine(Directory, "tiny-f32.gguf");
        SyntheticModel.Write(ModelPath, SyntheticModelShape.Parse("tiny"), GgmlType.F32, seed: 7);
        Runtime = LlamaLibrary.Initialize();
        Model = LlamaModel.Load(ModelPath);
    }

    public string Directory { get; }

    public string ModelPath { get; }

    public LlamaRuntimeInfo Runtime { get; }

    public LlamaModel Model { get; }

    /// <summary>A pool over the shared model; dispose it at the end of the test.</summary>
    public InferencePool CreatePool(int sequences = 8, int contextLength = 512, int batch = 256, Action<InferencePoolOptions>? configure = null)
    {
        var options = new InferencePoolOptions
        {
            ModelPath = ModelPath,
            MaxSequences = sequences,
            SequenceContextLength = contextLength,
            BatchSize = batch,
            MicroBatchSize = batch,
        };
        configure?.Invoke(options);
        return new InferencePool(Model, options);
    }

    public void Dispose()
    {
        Model.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is cleaned by the system anyway.
        }
    }
}
