using System.Text.RegularExpressions;

namespace AgentTheater.Integration.Tests;

/// <summary>
/// A bad model, end to end: the commands that start an embedded silo, and the standalone silo, check it before they
/// start anything and say what is wrong in one line.
/// </summary>
public sealed class ModelCheckTests(TheaterClusterFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_TextFileAsModel_ExitsThreeWithOneLineNamingTheFile_AndWritesNoRunFolder()
    {
        var model = Path.Combine(fixture.Directory, $"junk-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(model, "a text file, not a model\n", Cancel);
        var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");

        var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync("run", "scenarios/tavern.yaml", "--model", model, "--out", output);

        Assert.Equal(3, code);
        Assert.Equal($"agent-theater: error: {model}: not a GGUF file (the first four bytes are not 'GGUF').", OneLine(stderr));
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(output), $"{output} was made");
    }

    [Fact]
    public async Task Run_GgufCutShort_ExitsThreeWithOneLineNamingTheFileAndTheTensor_AndWritesNoRunFolder()
    {
        var model = await CutShortAsync();
        var output = Path.Combine(fixture.Directory, $"runs-{Guid.NewGuid():N}");

        var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync("run", "scenarios/tavern.yaml", "--model", model, "--out", output);

        Assert.Equal(3, code);
        Assert.Matches($@"^agent-theater: error: {Regex.Escape(model)}: truncated: tensor '[^']+' ends at byte \d+, but the file has \d+ bytes\.$", OneLine(stderr));
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(output), $"{output} was made");
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("experiment")]
    [InlineData("fork")]
    public async Task Command_GgufCutShort_ExitsThreeWithOneLineNamingTheFile_BeforeWritingAnything(string command)
    {
        var model = await CutShortAsync();
        var output = Path.Combine(fixture.Directory, $"out-{Guid.NewGuid():N}");
        var run = Path.Combine(fixture.Directory, $"run-{Guid.NewGuid():N}");
        Directory.CreateDirectory(run);
        await File.WriteAllBytesAsync(Path.Combine(run, "state.db"), [], Cancel);
        string[] arguments = command switch
        {
            "serve" => ["serve", "--port", "0", "--out", output, "--model", model],
            "experiment" => ["experiment", "twenty-questions", "--games", "1", "--out", output, "--model", model],
            _ => ["fork", run, "--scene", "hall-0", "--model", model],
        };

        var (code, stdout, stderr) = await RunCommandTests.AgentTheaterAsync(arguments);

        Assert.True(code == 3, $"exit {code}\n{stdout}\n{stderr}");
        Assert.StartsWith($"agent-theater: error: {model}: truncated: ", OneLine(stderr), StringComparison.Ordinal);
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(output), $"{output} was made");
        Assert.Equal(["state.db"], Directory.GetFileSystemEntries(run).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Silo_TextFileAsModel_NeverReadyLogsOneLineWithItsEventIdAndExitsThree()
    {
        var model = Path.Combine(fixture.Directory, $"junk-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(model, "a text file, not a model\n", Cancel);
        var (silo, output, httpPort, _) = TestProcesses.StartSilo($"--Inference:ModelPath={model}");
        try
        {
            // Asked until it exits: it must never answer ready.
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (!silo.HasExited)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the silo still runs after a minute:\n{TestProcesses.Text(output)}");
                try
                {
                    using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
                    Assert.False(response.IsSuccessStatusCode, $"the silo answered ready:\n{TestProcesses.Text(output)}");
                }
                catch (HttpRequestException)
                {
                    // Not listening: as it should be.
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), Cancel);
            }

            await silo.WaitForExitAsync(Cancel);
            var lines = TestProcesses.Text(output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

            Assert.True(silo.ExitCode == 3, $"exit {silo.ExitCode}:\n{TestProcesses.Text(output)}");
            Assert.Equal(["crit: AgentTheater.Grains.Inference.InferenceModelCheck[3602]", $"{model}: not a GGUF file (the first four bytes are not 'GGUF')."], lines);
        }
        finally
        {
            await TestProcesses.StopAsync(silo);
        }
    }

    /// <summary>The tiny model with its second half cut off.</summary>
    private async Task<string> CutShortAsync()
    {
        var model = Path.Combine(fixture.Directory, $"cut-{Guid.NewGuid():N}.gguf");
        var bytes = await File.ReadAllBytesAsync(fixture.ModelPath, Cancel);
        await File.WriteAllBytesAsync(model, bytes[..(bytes.Length / 2)], Cancel);
        return model;
    }

    /// <summary>The text of stderr, which must be exactly one line.</summary>
    private static string OneLine(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{lines.Length} lines on stderr:\n{stderr}");
        return lines[0].TrimEnd('\r');
    }
}
