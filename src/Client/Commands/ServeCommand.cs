using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using AgentTheater.Client.Hosting;
using AgentTheater.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentTheater.Client.Commands;

/// <summary>
/// <c>agent-theater serve</c>: an embedded silo and the web app in one process: the live page at <c>/</c>, the HTTP API,
/// the OpenAI-compatible endpoint over the pool, and the Orleans Dashboard.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "HTTP port (0: any free port)", DefaultValueFactory = _ => 5080 };
        var address = new Option<string>("--address") { Description = "Address to listen on (loopback unless you choose otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var output = new Option<string>("--out") { Description = "Folder for the run folders of runs started here", DefaultValueFactory = _ => "runs" };
        var state = new Option<string?>("--state") { Description = "SQLite file of the grain state (default: <out>/serve-state.db)" };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Do not serve the Orleans Dashboard at /dashboard" };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "An API key every request must send (Authorization: Bearer KEY); required with a non-loopback --address. Also AGENTTHEATER_Http__ApiKeys__0",
        };
        var theaterOptions = TheaterOptions.Embedded(new PoolDefaults(Sequences: 64, Context: 2048), "GGUF model (default: the project's model, else a synthetic one)", attributionSwitch: true);
        var command = new Command("serve", "Serve the theater over HTTP: the live page, the API for runs and scenes, and an OpenAI-compatible endpoint, on an embedded silo.")
        {
            port, address, output, state, noDashboard, apiKey,
        };
        theaterOptions.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandErrors.Run(async () =>
        {
            var settings = theaterOptions.Read(result);
            var listenOn = result.GetValue(address)!;
            if (!System.Net.IPAddress.TryParse(listenOn, out var ip))
            {
                throw new ArgumentException($"--address: '{listenOn}' is not an IP address.", "--address");
            }

            var httpPort = CommandErrors.InRange("--port", result.GetValue(port), 0, 65535);
            var model = DefaultModel.Check(DefaultModel.Resolve(settings.Model, Directory.GetCurrentDirectory()));
            var runs = result.GetValue(output)!;
            Directory.CreateDirectory(runs);
            var dashboard = !result.GetValue(noDashboard);

            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
            builder.WebHost.UseKestrel(o => o.Listen(ip, httpPort));
            EmbeddedTheater.AddEmbeddedSilo(
                builder,
                new EmbeddedTheaterSettings(
                    model,
                    result.GetValue(state) ?? Path.Combine(runs, "serve-state.db"),
                    settings.Sequences,
                    settings.Context,
                    settings.LogLevel,
                    Attribution: settings.Attribution,
                    HostKvMegabytes: settings.HostKvMegabytes),
                silo =>
                {
                    if (dashboard)
                    {
                        silo.AddTheaterDashboard(builder.Configuration);
                    }
                });
            builder.AddTheaterWeb(o =>
            {
                o.RunsFolder = runs;
                o.Dashboard = dashboard;
            });
            var http = builder.Configuration.GetSection(TheaterHttpOptions.SectionName).Get<TheaterHttpOptions>() ?? new TheaterHttpOptions();
            http.Address = listenOn;
            http.Port = httpPort;
            if (result.GetValue(apiKey) is { Length: > 0 } key)
            {
                http.ApiKeys.Add(key);
            }

            // An address beyond loopback without a key, or a key too short: refuse to serve, naming the setting.
            var problems = new List<ValidationResult>();
            if (!Validator.TryValidateObject(http, new ValidationContext(http), problems, validateAllProperties: true))
            {
                throw new ArgumentException(problems[0].ErrorMessage!.Replace("Http:ApiKeys", "--api-key (Http:ApiKeys)", StringComparison.Ordinal), "--api-key");
            }

            builder.Services.Configure<TheaterHttpOptions>(o =>
            {
                o.Address = http.Address;
                o.Port = http.Port;
                o.ApiKeys = http.ApiKeys;
            });
            await using var app = builder.Build();
            app.MapTheaterWeb();
            await app.StartAsync(cancellationToken);

            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? app.Urls;
            Console.Error.WriteLine($"model {model}; run folders in {Path.GetFullPath(runs)}");
            foreach (var url in bound)
            {
                Console.WriteLine($"listening on {url}");
            }

            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }));
        return command;
    }
}
