using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Validating_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    public static TheoryData<string, int, int> Bounds => new()
    {
        { "maxConcurrentBuilds", 1, 10_000 },
        { "cleanupBuildsAfterDays", 1, 365 },
        { "cleanupReposAfterDays", 1, 90 },
        { "syncIntervalHours", 1, 24 },
        { "repositorySyncIntervalMinutes", 5, 1440 },
        { "maxQueueSize", 1, 1_000_000 },
        { "slotWaitTimeoutSeconds", 10, 3600 },
        { "maxBuildMinutes", 1, 1440 },
        { "maxRetries", 0, 10 },
        { "utilizationThresholdPercent", 10, 100 },
        { "maxLogBytesPerAttempt", 65_536, 1_073_741_824 },
        { "maxRunningPerSubmitter", 0, 10_000 },
        { "maxRunningPerProject", 0, 10_000 },
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
        Assert.Equal(["maxConcurrentBuilds must be between 1 and 10000"], problem.Errors["maxConcurrentBuilds"]);
        Assert.Equal(["maxRetries must be between 0 and 10"], problem.Errors["maxRetries"]);
        Assert.Equal(2, problem.Errors.Count);
    }

    [Fact]
    public async Task Bounds_the_smallest_automatic_limit_by_the_largest()
    {
        using var client = app.Client(FarmRoles.Admin);
        using (var ok = await client.PatchAsync("/api/settings", Json.Body("""{"maxConcurrentBuilds": 50, "minConcurrentBuilds": 50}""", Json.MergePatch)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        var before = await app.GetAsync();

        using var response = await client.PatchAsync("/api/settings", Json.Body("""{"maxConcurrentBuilds": 49}""", Json.MergePatch));

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["minConcurrentBuilds must not be greater than maxConcurrentBuilds (49)"], problem.Errors["minConcurrentBuilds"]);
        Assert.Single(problem.Errors);
        Assert.Equal(before, await app.GetAsync());

        foreach (var value in new long[] { 0, 10_001 })
        {
            using var outside = await client.PatchAsync("/api/settings", Json.Body($$"""{"minConcurrentBuilds": {{value}}}""", Json.MergePatch));
            var bound = await Json.ProblemAsync(outside, HttpStatusCode.BadRequest);
            Assert.Equal(["minConcurrentBuilds must be between 1 and 10000"], bound.Errors["minConcurrentBuilds"]);
        }
        // The other tests of this class share the record: leave the lower bound where it does not bind them.
        using var reset = await client.PatchAsync("/api/settings", Json.Body("""{"minConcurrentBuilds": 1}""", Json.MergePatch));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
    }

    [Theory]
    [InlineData("\"fixed\"", HttpStatusCode.OK, null)]
    [InlineData("\"auto\"", HttpStatusCode.OK, null)]
    [InlineData("\"Auto\"", HttpStatusCode.BadRequest, "concurrencyMode must be \"fixed\" or \"auto\"")]
    [InlineData("\"dynamic\"", HttpStatusCode.BadRequest, "concurrencyMode must be \"fixed\" or \"auto\"")]
    [InlineData("1", HttpStatusCode.BadRequest, "concurrencyMode must be a string")]
    public async Task Takes_only_a_known_concurrency_mode(string value, HttpStatusCode expected, string? error)
    {
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PatchAsync("/api/settings", Json.Body($$"""{"concurrencyMode": {{value}}}""", Json.MergePatch));

        Assert.Equal(expected, response.StatusCode);
        if (error is not null)
        {
            var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal([error], problem.Errors["concurrencyMode"]);
        }
        using var reset = await client.PatchAsync("/api/settings", Json.Body("""{"concurrencyMode": "fixed"}""", Json.MergePatch));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
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
