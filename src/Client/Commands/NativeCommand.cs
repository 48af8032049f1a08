using System.CommandLine;
using System.Diagnostics;
using AgentTheater.Inference.Native;

namespace AgentTheater.Client.Commands;

/// <summary><c>agent-theater native fetch|info</c>.</summary>
internal static class NativeCommand
{
    public static Command Create()
    {
        var command = new Command("native", "Fetch and inspect the llama.cpp libraries.");
        var cuda = new Option<bool>("--cuda") { Description = "Fetch the CUDA 13 build (about 100 MB) into llama/cuda beside this program" };
        var fetch = new Command("fetch", "Fetch llama.cpp b7347 (npm @node-llama-cpp 3.14.5) next to this program.") { cuda };
        fetch.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var flavour = result.GetValue(cuda) ? "cuda" : "cpu";
            var script = Path.Combine(AppContext.BaseDirectory, "tools", "fetch-native.sh");
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
            start.ArgumentList.Add(script);
            if (flavour == "cuda")
            {
                start.ArgumentList.Add("--cuda");
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
            var cache = (await process.StandardOutput.ReadToEndAsync(cancellationToken)).Trim().Split('\n')[^1];
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"agent-theater: error: fetching llama.cpp failed (exit {process.ExitCode}); see above.");
                return 4;
            }

            var target = Path.Combine(AppContext.BaseDirectory, "llama", flavour);
            Directory.CreateDirectory(target);
            foreach (var file in Directory.EnumerateFiles(cache))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }

            Console.WriteLine($"llama.cpp {flavour} libraries in {target}");
            return 0;
        }));

        var info = new Command("info", "Load llama.cpp and print the backend, devices and CPU features.");
        info.SetAction((_, _) => CommandErrors.Run(() =>
        {
            var runtime = LlamaLibrary.Initialize();
            Console.WriteLine($"backend: {runtime.Backend}");
            Console.WriteLine($"folder:  {runtime.Directory}");
            foreach (var device in runtime.Devices)
            {
                Console.WriteLine($"device:  {device}");
            }

            Console.WriteLine($"system:  {runtime.SystemInfo}");
            return Task.FromResult(0);
        }));
        command.Subcommands.Add(fetch);
        command.Subcommands.Add(info);
        return command;
    }
}
