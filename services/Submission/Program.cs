using BuildFarm.ServiceDefaults;
using BuildFarm.Submission;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSubmission();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSubmissionApi();
app.Run();

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
