using AgentTheater.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddTheaterSilo();
var app = builder.Build();
app.MapTheaterEndpoints();
return await app.RunTheaterSiloAsync();
