using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Tests;

/// <summary>Scene and story keys are read from their end: a run id may hold '/', scene ids and replica parts never do.</summary>
public sealed class SceneKeysTests
{
    [Theory]
    [InlineData("run-1/hall/0", "run-1", "hall", "0")]
    [InlineData("lab/run-1/hall/0~1.2@yard", "lab/run-1", "hall", "0~1.2@yard")]
    public void Parse_SceneKey_GivesRunSceneAndReplica(string key, string run, string scene, string replica)
    {
        Assert.Equal((run, scene, replica), SceneKeys.Parse(key));
        Assert.Equal(key, SceneKeys.Of(run, scene, replica));
    }

    [Fact]
    public void Continuation_BranchOfARunWhoseIdHoldsASlash_KeepsTheRunAndNamesTheForkedScene()
    {
        Assert.Equal("lab/run-1/cellar/0~0.1@hall", StoryKeys.Continuation("lab/run-1/hall/0~0.1", "cellar"));
        Assert.Equal("hall", StoryKeys.SceneId("lab/run-1/hall/0~0.1"));
    }

    [Theory]
    [InlineData("hall/0")]
    [InlineData("/hall/0")]
    public void Parse_NotASceneKey_IsAnErrorNamingIt(string key)
    {
        var error = Assert.Throws<ArgumentException>(() => SceneKeys.Parse(key));
        Assert.Contains($"'{key}' is not a scene key", error.Message, StringComparison.Ordinal);
    }
}
