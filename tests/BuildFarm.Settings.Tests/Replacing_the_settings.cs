using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Replacing_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Stores_them_broadcasts_them_and_sets_the_slot_limit()
    {
        var (before, etag) = await app.GetAsync();
        var wanted = before with
        {
            MaxConcurrentBuilds = before.MaxConcurrentBuilds == 7 ? 8 : 7,
            CleanupBuildsAfterDays = 60,
            AutoSyncProjects = !before.AutoSyncProjects,
            MaxQueueSize = 5000,
        };
        using var client = app.Client(FarmRoles.Admin, "alice");

        using var response = await client.PutAsync("/api/settings", Json.Body(wanted));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(wanted, await response.Content.ReadFromJsonAsync<FarmSettings>());
        var newTag = response.Headers.ETag!.Tag;
        Assert.NotEqual(etag, newTag);
        Assert.Equal((wanted, newTag), await app.GetAsync());
        var revision = long.Parse(newTag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
        var changed = await app.Recorder.WaitForAsync<SettingsChanged>(m => m.Revision == revision);
        Assert.Equal(wanted, changed.Settings);
        Assert.Equal("alice", changed.ChangedBy);
        var limit = await app.Recorder.WaitForAsync<ConcurrencyLimitChanged>(m => m.Revision == revision);
        Assert.Equal((before.MaxConcurrentBuilds, wanted.MaxConcurrentBuilds), (limit.OldLimit, limit.NewLimit));
        Assert.Equal(wanted.MaxConcurrentBuilds, await app.SemaphoreAdmin.GetLimitAsync());
    }

    [Fact]
    public async Task Refuses_a_stale_if_match_and_changes_nothing()
    {
        var (before, staleTag) = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);
        var first = before with { MaxRetries = before.MaxRetries == 5 ? 6 : 5 };
        using var accepted = await client.SendAsync(Json.Request(HttpMethod.Put, "/api/settings", Json.Body(first), ifMatch: staleTag));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var currentTag = accepted.Headers.ETag!.Tag;

        using var refused = await client.SendAsync(Json.Request(HttpMethod.Put, "/api/settings", Json.Body(first with { MaxRetries = 9 }), ifMatch: staleTag));

        var problem = await Json.ProblemAsync(refused, HttpStatusCode.PreconditionFailed);
        Assert.Contains(currentTag, problem.Detail, StringComparison.Ordinal);
        Assert.Equal(currentTag, refused.Headers.ETag?.Tag);
        Assert.Equal((first, currentTag), await app.GetAsync());
    }

    [Fact]
    public async Task Requires_every_field()
    {
        var (before, etag) = await app.GetAsync();
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PutAsync("/api/settings", Json.Body("""{"maxConcurrentBuilds": 3}"""));

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["maxRetries is required"], problem.Errors["maxRetries"]);
        Assert.False(problem.Errors.ContainsKey("maxConcurrentBuilds"));
        Assert.Equal((before, etag), await app.GetAsync());
    }

    [Fact]
    public async Task Is_served_at_the_seed_address_too()
    {
        var (before, _) = await app.GetAsync();
        var wanted = before with { SyncIntervalHours = before.SyncIntervalHours == 12 ? 13 : 12 };
        using var client = app.Client(FarmRoles.Admin);

        using var response = await client.PutAsync("/api/settings/1/", Json.Body(wanted));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(wanted, (await app.GetAsync()).Settings);
    }
}
