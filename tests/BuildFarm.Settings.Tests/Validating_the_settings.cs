using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Validating_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    public static TheoryData<string, int, int> Bounds => new()
    {
        { "maxConcurrentBuilds", 1, 20 },
        { "cleanupBuildsAfterDays", 1, 365 },
        { "cleanupReposAfterDays", 1, 90 },
        { "syncIntervalHours", 1, 24 },
        { "repositorySyncIntervalMinutes", 5, 1440 },
        { "maxQueueSize", 1, 100_000 },
        { "slotWaitTimeoutSeconds", 10, 3600 },
        { "maxBuildMinutes", 1, 1440 },
        { "maxRetries", 0, 10 },
        { "utilizationThresholdPercent", 10, 100 },
        { "maxLogBytesPerAttempt", 65_536, 1_073_741_824 },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public async Task Refuses_each_value_outside_its_bounds_naming_the_field_and_bound(string field, int min, int max)
    {
        var before = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);
        var message = $"{field} must be between {min} and {max}";

        foreach (var value in new long[] { min - 1, max + 1, 10_000_000_000 })
        {
            using var response = await client.PatchAsync("/api/settings", Json.Body($$"""{"{{field}}": {{value}}}""", Json.MergePatch));

            var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal([message], problem.Errors[field]);
        }
        Assert.Equal(before, await app.GetAsync());
    }

    [Theory]
    [MemberData(nameof(Bounds))]
    public async Task Accepts_each_bound_itself(string field, int min, int max)
    {
        using var client = app.Client(FarmRoles.Admin);

        foreach (var value in new[] { min, max })
        {
            using var response = await client.PatchAsync("/api/settings", Json.Body($$"""{"{{field}}": {{value}}}""", Json.MergePatch));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Names_every_bad_field_of_a_put()
    {
        var (before, _) = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PutAsync("/api/settings", Json.Body(before with { MaxConcurrentBuilds = 0, MaxRetries = 11 }));

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["maxConcurrentBuilds must be between 1 and 20"], problem.Errors["maxConcurrentBuilds"]);
        Assert.Equal(["maxRetries must be between 0 and 10"], problem.Errors["maxRetries"]);
        Assert.Equal(2, problem.Errors.Count);
    }

    [Theory]
    [InlineData("PUT", "application/json")]
    [InlineData("PATCH", Json.MergePatch)]
    public async Task Answers_malformed_json_with_problem_details(string method, string mediaType)
    {
        var before = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.SendAsync(Json.Request(new HttpMethod(method), "/api/settings", Json.Body("""{"maxRetries": 3,""", mediaType)));

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("not valid JSON", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await app.GetAsync());
    }
}
