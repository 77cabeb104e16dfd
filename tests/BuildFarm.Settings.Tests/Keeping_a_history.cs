using System.Globalization;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings.Storage;

namespace BuildFarm.Settings.Tests;

public sealed class Keeping_a_history(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Lists_each_change_newest_first_with_who_and_the_old_and_new_values()
    {
        var (original, _) = await app.GetAsync();
        using (var alice = app.Client(FarmRoles.Admin, "alice"))
        {
            (await alice.PatchAsync("/api/settings", Json.Body("""{"maxBuildMinutes": 240}""", Json.MergePatch))).EnsureSuccessStatusCode();
        }
        var (afterAlice, _) = await app.GetAsync();
        using (var bob = app.Client(FarmRoles.Admin, "bob"))
        {
            (await bob.PatchAsync("/api/settings", Json.Body("""{"maxConcurrentBuilds": 9, "maxQueueSize": 50}""", Json.MergePatch))).EnsureSuccessStatusCode();
        }
        var (afterBob, etag) = await app.GetAsync();
        using var viewer = app.Client(FarmRoles.Viewer);

        var first = await viewer.GetFromJsonAsync<SettingsHistoryPage>("/api/settings/history?limit=1");
        var second = await viewer.GetFromJsonAsync<SettingsHistoryPage>($"/api/settings/history?limit=1&cursor={first!.NextCursor}");

        var newest = Assert.Single(first.Items);
        Assert.Equal(("update", "bob", long.Parse(etag.Trim('"'), CultureInfo.InvariantCulture)), (newest.Action, newest.ChangedBy, newest.Revision));
        Assert.Equal((afterAlice, afterBob), (newest.OldValue, newest.NewValue));
        Assert.Equal(["maxConcurrentBuilds", "maxQueueSize"], newest.ChangedFields.Order());
        var older = Assert.Single(second!.Items);
        Assert.Equal(("update", "alice"), (older.Action, older.ChangedBy));
        Assert.Equal((original, afterAlice), (older.OldValue, older.NewValue));
        Assert.Equal(["maxBuildMinutes"], older.ChangedFields);
        Assert.True(newest.ChangedAt >= older.ChangedAt);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("cursor=abc", "cursor")]
    public async Task Refuses_a_bad_page_query(string query, string field)
    {
        using var viewer = app.Client(FarmRoles.Viewer);

        using var response = await viewer.GetAsync($"/api/settings/history?{query}");

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors.ContainsKey(field));
    }
}
