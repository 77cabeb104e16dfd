using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddFarmAuthentication();
builder.AddSettings();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSettingsApi();
app.Run();

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
