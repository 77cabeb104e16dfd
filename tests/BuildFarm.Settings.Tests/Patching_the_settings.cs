using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Patching_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Theory]
    [InlineData(Json.MergePatch)]
    [InlineData("application/json")]
    public async Task Changes_only_the_field_it_names(string mediaType)
    {
        var (before, etag) = await app.GetAsync();
        var retries = before.MaxRetries == 7 ? 8 : 7;
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PatchAsync("/api/settings", Json.Body($$"""{"maxRetries": {{retries}}}""", mediaType));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(etag, response.Headers.ETag?.Tag);
        Assert.Equal(before with { MaxRetries = retries }, (await app.GetAsync()).Settings);
    }

    [Fact]
    public async Task Keeps_the_revision_when_nothing_changes()
    {
        var (before, etag) = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PatchAsync("/api/settings", Json.Body($$"""{"maxRetries": {{before.MaxRetries}}}""", Json.MergePatch));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag?.Tag);
        Assert.Equal((before, etag), await app.GetAsync());
    }

    [Theory]
    [InlineData("""{"maxRetries": 2, "colour": "blue"}""", "colour", "colour is not a setting")]
    [InlineData("""{"maxRetries": null}""", "maxRetries", "maxRetries must not be null (every setting has a value)")]
    [InlineData("""{"maxRetries": "3"}""", "maxRetries", "maxRetries must be a whole number")]
    [InlineData("""{"maxRetries": 2.5}""", "maxRetries", "maxRetries must be a whole number")]
    [InlineData("""{"autoSyncProjects": 1}""", "autoSyncProjects", "autoSyncProjects must be true or false")]
    [InlineData("""[1, 2]""", "$", "The body must be a JSON object of settings, not an array.")]
    public async Task Refuses_members_that_are_not_settings_values(string body, string field, string message)
    {
        var before = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PatchAsync("/api/settings", Json.Body(body, Json.MergePatch));

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal([message], problem.Errors[field]);
        Assert.Equal(before, await app.GetAsync());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task Refuses_other_content_types(string? mediaType)
    {
        var before = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);
        HttpContent content = mediaType is null ? new ByteArrayContent("""{"maxRetries": 2}"""u8.ToArray()) : Json.Body("""{"maxRetries": 2}""", mediaType);

        using var response = await client.PatchAsync("/api/settings", content);

        var problem = await Json.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains(Json.MergePatch, problem.Detail, StringComparison.Ordinal);
        Assert.Contains(Json.MergePatch, response.Headers.GetValues("Accept-Patch").Single(), StringComparison.Ordinal);
        Assert.Equal(before, await app.GetAsync());
    }
}
