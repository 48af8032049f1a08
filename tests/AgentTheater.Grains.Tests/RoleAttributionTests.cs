using System.ComponentModel.DataAnnotations;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Grains.Attribution;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentTheater.Grains.Tests;

public sealed class RoleAttributionTests
{
    private const int Precision = 6;

    [Fact]
    public void MeanLogLikelihood_DividesByTokens()
    {
        Assert.Equal(-2.0, RoleAttribution.MeanLogLikelihood(-6.0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => RoleAttribution.MeanLogLikelihood(-1.0, 0));
    }

    [Fact]
    public void Posterior_UniformPrior_IsTheSoftmaxOfTheMeans()
    {
        // e^-1, e^-2, e^-3 normalised.
        var posterior = RoleAttribution.Posterior([-1.0, -2.0, -3.0], sharpness: 1);

        Assert.Equal(0.665241, posterior[0], Precision);
        Assert.Equal(0.244728, posterior[1], Precision);
        Assert.Equal(0.090031, posterior[2], Precision);
    }

    [Fact]
    public void Posterior_Sharpness_ScalesTheLogLikelihoodDifferences()
    {
        // One nat per token apart: sharpness 1 gives 1 / (1 + e^-1), sharpness 2 gives 1 / (1 + e^-2).
        Assert.Equal(0.731059, RoleAttribution.Posterior([-1.0, -2.0], 1)[0], Precision);
        Assert.Equal(0.880797, RoleAttribution.Posterior([-1.0, -2.0], 2)[0], Precision);
    }

    [Fact]
    public void Posterior_OnlyDifferencesMatter_AndLargeMagnitudesDoNotOverflow()
    {
        var near = RoleAttribution.Posterior([-1.0, -1.5], 5);
        var far = RoleAttribution.Posterior([-1000.0, -1000.5], 5);

        Assert.Equal(near[0], far[0], 12);
        Assert.Equal(1 / (1 + Math.Exp(-2.5)), far[0], 12);
    }

    [Fact]
    public void Posterior_EqualLikelihoods_GiveThePrior()
    {
        Assert.Equal([0.25, 0.25, 0.25, 0.25], RoleAttribution.Posterior([-2.0, -2.0, -2.0, -2.0], 7));
        var weighted = RoleAttribution.Posterior([-2.0, -2.0], 7, [3.0, 1.0]);
        Assert.Equal(0.75, weighted[0], 12);
        Assert.Equal(0.25, weighted[1], 12);
    }

    [Fact]
    public void Posterior_ZeroPrior_RulesAHypothesisOut()
    {
        var posterior = RoleAttribution.Posterior([-5.0, -1.0], 1, [1.0, 0.0]);

        Assert.Equal([1.0, 0.0], posterior);
    }

    [Fact]
    public void Posterior_AlwaysSumsToOne()
    {
        double[][] cases = [[-0.1], [-3.2, -0.4, -7.9, -2.2, -2.2], [-12.5, -0.01, -4.0], [0, 0, -50]];
        foreach (var means in cases)
        {
            Assert.Equal(1.0, RoleAttribution.Posterior(means, 3.5).Sum(), 12);
        }
    }

    [Fact]
    public void Posterior_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => RoleAttribution.Posterior([], 1));
        Assert.Throws<ArgumentException>(() => RoleAttribution.Posterior([-1.0, -2.0], 1, [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RoleAttribution.Posterior([-1.0], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => RoleAttribution.Posterior([-1.0], double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => RoleAttribution.Posterior([double.NaN, -1.0], 1));
        Assert.Throws<ArgumentException>(() => RoleAttribution.Posterior([-1.0, -1.0], 1, [0.0, 0.0]));
    }

    [Theory]
    [InlineData(new[] { 0.6, 0.3, 0.1 }, LineVerdict.Held)]
    [InlineData(new[] { 0.4, 0.4, 0.2 }, LineVerdict.Held)]
    [InlineData(new[] { 0.35, 0.45, 0.2 }, LineVerdict.Ambiguous)]
    [InlineData(new[] { 0.3, 0.6, 0.1 }, LineVerdict.TakenOver)]
    [InlineData(new[] { 0.09, 0.455, 0.455 }, LineVerdict.TakenOver)]
    [InlineData(new[] { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, LineVerdict.Held)]
    public void Judge_ThresholdAndMargin_DecideTheVerdict(double[] posterior, LineVerdict expected)
    {
        var judgement = RoleAttribution.Judge(posterior, 0, threshold: 0.1, margin: 0.3);

        Assert.Equal(expected, judgement.Verdict);
        Assert.Equal(posterior[0], judgement.Assigned);
    }

    [Fact]
    public void Judge_NamesTheStrongestRival_WhereverTheAssignedRoleIs()
    {
        var judgement = RoleAttribution.Judge([0.2, 0.1, 0.7], assigned: 1, threshold: 0.05, margin: 0.5);

        Assert.Equal((LineVerdict.TakenOver, 0.1, 2, 0.7), (judgement.Verdict, judgement.Assigned, judgement.Rival, judgement.RivalPosterior));
    }

    [Fact]
    public void ChooseTrigger_TheLineWhoseRemovalRestoresTheAssignedRoleMost_FirstOfEquals()
    {
        TriggerCandidate[] candidates = [new(3, 0.10), new(4, 0.62), new(5, 0.62), new(6, 0.02)];

        Assert.Equal(4, RoleAttribution.ChooseTrigger(candidates)!.LineIndex);
        Assert.Null(RoleAttribution.ChooseTrigger([]));
    }

    [Fact]
    public void Options_Defaults_AreValid_AndTheSiloConfigurationCarriesTheSame()
    {
        var defaults = new AttributionOptions();
        defaults.Validate();

        // The calibrated defaults (docs/takeovers.md) live in the class and in the standalone silo's appsettings.json.
        var configured = new AttributionOptions();
        new ConfigurationBuilder()
            .AddJsonFile(RepositoryFiles.Path("src", "Silo", "appsettings.json"))
            .Build()
            .GetSection(AttributionOptions.SectionName)
            .Bind(configured);
        Assert.Equal(defaults.Detector, configured.Detector);
        Assert.Equal(defaults.Sharpness, configured.Sharpness);
        Assert.Equal(defaults.TriggerWindow, configured.TriggerWindow);
        Assert.Equal(defaults.Enabled, configured.Enabled);
        Assert.Equal((defaults.Screen, defaults.ScreenMargin, defaults.SharedRivals), (configured.Screen, configured.ScreenMargin, configured.SharedRivals));
    }

    [Fact]
    public void Options_ThresholdAboveHalf_WithTheScreenOn_FailValidation_NamingBoth()
    {
        var options = new AttributionOptions { Threshold = 0.6 };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.Contains("Attribution:Threshold", error.Message, StringComparison.Ordinal);
        Assert.Contains("Attribution:Screen", error.Message, StringComparison.Ordinal);
        new AttributionOptions { Threshold = 0.6, Screen = false }.Validate();
    }

    [Theory]
    [InlineData(nameof(AttributionOptions.Margin), 0.0)]
    [InlineData(nameof(AttributionOptions.Margin), 1.5)]
    [InlineData(nameof(AttributionOptions.Threshold), -0.1)]
    [InlineData(nameof(AttributionOptions.Sharpness), 0.0)]
    [InlineData(nameof(AttributionOptions.ConsecutiveLines), 0.0)]
    [InlineData(nameof(AttributionOptions.TriggerWindow), -1.0)]
    [InlineData(nameof(AttributionOptions.ScreenMargin), -0.1)]
    [InlineData(nameof(AttributionOptions.ScreenMargin), double.NaN)]
    [InlineData(nameof(AttributionOptions.ScreenMargin), double.PositiveInfinity)]
    public void Options_OutOfRange_FailValidation_NamingTheSetting(string setting, double value)
    {
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddRoleAttribution(o => Set(o, setting, value))
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AttributionOptions>>().Value);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        var options = new AttributionOptions();
        Set(options, setting, value);
        Assert.Throws<ValidationException>(options.Validate);
    }

    private static void Set(AttributionOptions options, string setting, double value)
    {
        var property = typeof(AttributionOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(int) ? (object)(int)value : value);
    }
}
