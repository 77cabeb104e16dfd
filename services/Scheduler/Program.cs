using BuildFarm.Scheduler;
using BuildFarm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScheduler();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
