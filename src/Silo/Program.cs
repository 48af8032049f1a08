using AgentTheater.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddTheaterSilo();
var app = builder.Build();
app.MapTheaterEndpoints();
app.Run();
