using AgentTheater.Silo.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddTheaterSilo();
}
catch (OptionsValidationException e)
{
    // A setting that cannot work (an open HTTP port without an API key, a Redis provider without Redis): say which, once.
    Console.Error.WriteLine($"agent-theater-silo: {string.Join(" ", e.Failures)}");
    return 2;
}

var app = builder.Build();
app.MapTheaterEndpoints();
return await app.RunTheaterSiloAsync();
