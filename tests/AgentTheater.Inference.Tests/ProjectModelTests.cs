using System.Text.Json;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;
using AgentTheater.Inference.Native;

namespace AgentTheater.Inference.Tests;

/// <summary>
/// The project's own model (models/agent-theater-small.gguf, trained by tools/model) as llama.cpp runs it: the
/// tokenizer is the trainer's, token for token, and the packed Q8_0 weights score held-out text as PyTorch did.
/// </summary>
public sealed class ProjectModelTests(TinyModelFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string ModelPath => Path.Combine(RepositoryRoot(), "models", "agent-theater-small.gguf");

    public static string CheckPath => Path.Combine(RepositoryRoot(), "models", "agent-theater-small.check.jsonl");

    [Fact]
    public void Model_IsSmallQuantisedAndCarriesItsPromptFormat()
    {
        Assert.NotNull(fixture.Runtime);
        var file = GgufFile.Read(ModelPath);

        Assert.InRange(file.FileSize, 1, 30L * 1024 * 1024);
        Assert.Equal("llama", file.Architecture);
        Assert.Equal("llama", file.GetString("tokenizer.ggml.model"));
        Assert.All(file.Tensors.Where(t => t.Shape.Length == 2), t => Assert.Equal(GgmlType.Q8_0, t.Type));
        Assert.Contains("[Character] Name, role", file.GetString("agent_theater.prompt_format"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(file.GetString("general.description")));
        Assert.Contains("held_out_loss", file.GetString("agent_theater.training"), StringComparison.Ordinal);
    }

    [Fact]
    public void LlamaCpp_TokenizesHeldOutText_IntoExactlyTheTrainersIds()
    {
        using var model = LlamaModel.Load(ModelPath);
        var documents = ReadCheck();

        Assert.True(documents.Count >= 10, $"{documents.Count} documents in {CheckPath}");
        foreach (var document in documents)
        {
            Assert.Equal(document.Ids, model.Tokenize(document.Text));
        }
    }

    [Fact]
    public async Task LlamaCpp_ScoresHeldOutText_AsPyTorchDid()
    {
        using var model = LlamaModel.Load(ModelPath);
        await using var pool = new InferencePool(model, new InferencePoolOptions { ModelPath = ModelPath, MaxSequences = 8, SequenceContextLength = 1024 });
        var scored = ReadCheck().Where(d => d.LogProbabilities is not null).ToList();
        Assert.NotEmpty(scored);

        var differences = new List<double>();
        foreach (var document in scored)
        {
            var result = await pool.ScoreAsync(
                new ScoreRequest { PromptTokens = document.Ids[..1], ContinuationTokens = document.Ids[1..] },
                TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
            Assert.Equal(document.LogProbabilities!.Length, result.TokenLogProbabilities.Count);
            differences.AddRange(result.TokenLogProbabilities.Select((p, i) => Math.Abs(p - document.LogProbabilities[i])));
        }

        // Q8_0 rounding moves each log-probability a little; a wrong layout, rope or norm would move it by nats.
        var mean = differences.Average();
        var p99 = differences.Order().ElementAt((int)(differences.Count * 0.99));
        Assert.True(mean < 0.05, $"mean |llama.cpp - PyTorch| = {mean:F4} nats over {differences.Count} tokens");
        Assert.True(p99 < 0.5, $"99th percentile |llama.cpp - PyTorch| = {p99:F4} nats");
    }

    private static List<CheckDocument> ReadCheck() =>
        [.. File.ReadLines(CheckPath).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<CheckDocument>(l)!)];

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AgentTheater.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No AgentTheater.sln above {AppContext.BaseDirectory}.");
    }

    private sealed record CheckDocument(
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text,
        [property: System.Text.Json.Serialization.JsonPropertyName("ids")] int[] Ids,
        [property: System.Text.Json.Serialization.JsonPropertyName("logprobs")] double[]? LogProbabilities);
}
