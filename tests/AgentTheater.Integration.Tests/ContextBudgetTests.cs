using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Inference.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// A scene longer than the model's context on the real default model (trained on 512 tokens): each character keeps its
/// card and the setting, drops its oldest lines in chunks, and the pool shifts its cache instead of prefilling again.
/// Long lines are allowed (max_tokens_per_line 200), so the room for witnessed lines is small and fills in a few turns.
/// </summary>
public sealed class ContextBudgetTests(TheaterClusterFixture fixture)
{
    private const int Turns = 24;

    private static readonly PersonaCard[] Cast =
    [
        new("innkeeper", "Marta", "the innkeeper", ["keep the peace"], ["the cellar holds six casks of brandy"], "warm and blunt"),
        new("clerk", "Quillon", "a tax clerk", ["find the ledger"], [], "dry, precise"),
        new("bard", "Bartholomew", "a travelling bard", ["earn a coin"], [], "sings his sentences"),
    ];

    private static readonly SamplingSettings Sampling = new(Temperature: 0.9f, Seed: 11, MaxTokensPerLine: 200);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scene_LongerThanTheContext_DropsOldestLinesInChunks_ShiftsTheCache_AndWithMemoryRemembers()
    {
        var shiftsBefore = Pools().Sum(p => p.Statistics.ContextShifts);
        var plain = PlayAsync(MemorySummary.None);
        var remembering = PlayAsync(MemorySummary.Model);
        var (plainKey, plainLines) = await plain;
        var (rememberingKey, rememberingLines) = await remembering;

        foreach (var lines in new[] { plainLines, rememberingLines })
        {
            Assert.Equal(Turns, lines.Count(l => l.Kind == LineKind.Character));
            foreach (var character in Cast)
            {
                // Each character's left-out lines only grow (the cut never moves back); ContextWindowTests check the chunks.
                var omitted = lines.Where(l => l.SpeakerId == character.Id).Select(l => l.OmittedLines).ToList();
                Assert.True(omitted.Zip(omitted.Skip(1)).All(p => p.Second >= p.First), $"{character.Id}: {string.Join(" ", omitted)}");
                Assert.True(omitted[^1] > 0, $"{character.Id} never dropped a line: {string.Join(" ", omitted)}");
            }
        }

        Assert.True(Pools().Sum(p => p.Statistics.ContextShifts) > shiftsBefore, "no context shift");

        // What the characters see now: the card and setting pinned, the marker, the newest lines, within the budget.
        var limits = await fixture.Client.GetGrain<IInferenceGrain>(0).GetPromptLimits();
        var view = await fixture.Client.GetGrain<ICharacterGrain>($"{plainKey}/innkeeper").GetView();
        Assert.StartsWith("[Character] Marta, the innkeeper\n", view.Prompt, StringComparison.Ordinal);
        Assert.Contains("[Secret] the cellar holds six casks of brandy", view.Prompt, StringComparison.Ordinal);
        Assert.Contains(DialoguePrompt.OmittedMarker, view.Prompt, StringComparison.Ordinal);
        Assert.Contains(DialoguePrompt.Line(view.Witnessed[^1]), view.Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(DialoguePrompt.Line(view.Witnessed[0]), view.Prompt, StringComparison.Ordinal);
        var tokens = (await fixture.Client.GetGrain<IInferenceGrain>(0).CountTokens([view.Prompt]))[0];
        Assert.InRange(tokens, 1, PromptBudget.Usable(limits, Sampling.MaxTokensPerLine));

        var remembered = await fixture.Client.GetGrain<ICharacterGrain>($"{rememberingKey}/innkeeper").GetView();
        Assert.Contains("[Memory] ", remembered.Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("[Memory] ", view.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NeutralPrompt_PastTheBudget_IsCutAlikeForEverySpeaker_SoTheCastSharesIt()
    {
        // Names of different lengths, and enough lines that the budget drops the oldest.
        var lines = Enumerable.Range(0, 80)
            .Select(i => new SceneLine(i, i, LineKind.Character, Cast[i % 3].Id, Cast[i % 3].Name, $"Line {i}: the rain keeps on and the fire is low tonight."))
            .ToList();
        var inference = fixture.Client.GetGrain<IInferenceGrain>(0);
        var names = Cast.Select(c => c.Name).ToList();
        var prompts = new List<(string Text, int Omitted)>();
        foreach (var speaker in Cast)
        {
            var casting = new CharacterCasting("budget/common-room/0", speaker, "A rainy night in the Grey Goose inn.", names, Sampling);
            var (prompt, omitted) = await new PromptBudget().PromptAsync(inference, casting, lines, persona: false);
            Assert.EndsWith("\n" + speaker.Name + ":", prompt.Text, StringComparison.Ordinal);
            prompts.Add((prompt.Text[..^(speaker.Name.Length + 1)], omitted));
        }

        Assert.True(prompts[0].Omitted > 0, "the budget dropped nothing");
        Assert.All(prompts, p => Assert.Equal(prompts[0], p));
    }

    private async Task<(string Key, IReadOnlyList<SceneLine> Lines)> PlayAsync(MemorySummary memory)
    {
        var runId = $"budget-{Guid.NewGuid():N}";
        var scene = new SceneDefinition("common-room", "A rainy night in the Grey Goose inn.", [.. Cast.Select(c => c.Id)], TurnPolicy.RoundRobin, Turns, [], [], []);
        var key = $"{runId}/{scene.Id}/0";
        var grain = fixture.Client.GetGrain<ISceneGrain>(key);
        await grain.Start(new SceneStart(runId, 0, scene, Cast, Sampling, Memory: memory));
        await foreach (var line in grain.Watch(0, Cancel).WithCancellation(Cancel))
        {
            _ = line;
        }

        var status = await grain.GetStatus();
        Assert.True(status.Phase == ScenePhase.Completed, $"scene ended {status.Phase}: {status.EndReason}");
        return (key, await grain.GetTranscript());
    }

    private List<InferencePool> Pools() =>
        [.. fixture.Cluster.Silos.Select(s => s.ServiceProvider.GetService<InferencePool>()).OfType<InferencePool>()];
}
