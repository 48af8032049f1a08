using AgentTheater.Inference.Chat;
using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentTheater.Inference.Tests;

public sealed class InferenceServiceCollectionTests(TinyModelFixture fixture)
{
    [Fact]
    public async Task AddPooledChatClient_ResolvesAChatClientOverTheConfiguredPool()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ModelPath"] = fixture.ModelPath,
            ["Inference:MaxSequences"] = "2",
            ["Inference:SequenceContextLength"] = "256",
            ["Inference:Threads"] = "1",
            ["Inference:Chat:MaxOutputTokens"] = "3",
        }).Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddInferencePool()
            .AddPooledChatClient()
            .BuildServiceProvider();

        var client = services.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Hello there", new ChatOptions { Temperature = 0 }, TestContext.Current.CancellationToken);

        Assert.Equal(3, response.Usage?.OutputTokenCount);
        Assert.Same(services.GetRequiredService<PooledChatClient>(), client);
        Assert.Equal(2, services.GetRequiredService<InferencePool>().MaxSequences);
    }

    [Fact]
    public void AddInferencePool_InvalidSetting_FailsValidationNamingIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ModelPath"] = fixture.ModelPath,
            ["Inference:MaxSequences"] = "1000",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddInferencePool().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<InferencePoolOptions>>().Value);

        Assert.Contains("MaxSequences", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MicroBatchLargerThanBatch_FailsInBothValidationPaths()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ModelPath"] = fixture.ModelPath,
            ["Inference:BatchSize"] = "256",
            ["Inference:MicroBatchSize"] = "512",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddInferencePool().BuildServiceProvider();

        var fromOptions = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<InferencePoolOptions>>().Value);
        var direct = Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(
            () => new InferencePoolOptions { ModelPath = fixture.ModelPath, BatchSize = 256, MicroBatchSize = 512 }.Validate());

        Assert.Contains("Inference:MicroBatchSize (512) must not exceed Inference:BatchSize (256)", fromOptions.Message, StringComparison.Ordinal);
        Assert.Contains("Inference:MicroBatchSize (512) must not exceed Inference:BatchSize (256)", direct.Message, StringComparison.Ordinal);
    }
}
