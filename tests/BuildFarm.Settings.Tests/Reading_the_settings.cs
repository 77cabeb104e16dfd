using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Reading_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Returns_the_defaults_with_revision_one_as_etag()
    {
        using var client = app.Client(FarmRoles.Viewer);

        using var response = await client.GetAsync("/api/settings");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal(new FarmSettings(), await response.Content.ReadFromJsonAsync<FarmSettings>());
    }

    [Fact]
    public async Task Serves_the_same_record_at_the_seed_address()
    {
        using var client = app.Client(FarmRoles.Viewer);

        using var response = await client.GetAsync("/api/settings/1/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.Equal(new FarmSettings(), await response.Content.ReadFromJsonAsync<FarmSettings>());
    }

    [Fact]
    public async Task Answers_not_modified_to_the_current_etag()
    {
        using var client = app.Client(FarmRoles.Viewer);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/settings");
        request.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"1\""));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task Publishes_the_stored_settings_once_at_start()
    {
        var announced = await app.Recorder.WaitForAsync<SettingsChanged>(m => m.Revision == 1);

        Assert.Equal(new FarmSettings(), announced.Settings);
    }

    [Fact]
    public async Task Sets_the_slot_limit_from_the_stored_record_at_start()
    {
        Assert.Equal(new FarmSettings().MaxConcurrentBuilds, await app.SemaphoreAdmin.GetLimitAsync());
        Assert.NotEqual(SettingsFixture.LimitBeforeStart, await app.SemaphoreAdmin.GetLimitAsync());
    }

    [Fact]
    public async Task Describes_its_api_in_an_openapi_document()
    {
        using var client = app.Client(null);

        var document = await client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/api/settings\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/settings/history\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/settings/build_status\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/settings/build_status/release/{buildId}\"", document, StringComparison.Ordinal);
    }
}
