using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Auth;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Settings.Tests;

public sealed class Asking_for_the_settings(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Answers_a_request_with_the_stored_settings()
    {
        var (stored, etag) = await ChangeAsync();
        using var other = await BusHost.StartAsync(app.RabbitMq, _ => { });

        var client = other.Services.GetRequiredService<IClientFactory>().CreateRequestClient<GetFarmSettings>(RequestTimeout.After(s: 30));
        var response = await client.GetResponse<SettingsChanged>(new GetFarmSettings());

        Assert.Equal(stored, response.Message.Settings);
        Assert.Equal(etag, $"\"{response.Message.Revision}\"");
        Assert.Equal("grace", response.Message.ChangedBy);
        await other.StopAsync();
    }

    [Fact]
    public async Task A_starting_service_applies_them_to_its_cache()
    {
        var (stored, etag) = await ChangeAsync();
        using var other = await BusHost.StartAsync(app.RabbitMq, _ => { }, services => services.AddFarmSettingsBootstrap());

        Assert.True(await other.Services.GetRequiredService<FarmSettingsBootstrap>().Completion.WaitAsync(Eventually.Patience));

        var cache = other.Services.GetRequiredService<FarmSettingsCache>();
        Assert.Equal(stored, cache.Current);
        Assert.Equal(etag, $"\"{cache.Revision}\"");
        await other.StopAsync();
    }

    private async Task<(FarmSettings Settings, string ETag)> ChangeAsync()
    {
        var (before, _) = await app.GetAsync();
        using var admin = app.Client(FarmRoles.Admin, "grace");
        var wanted = before with { UtilizationThresholdPercent = before.UtilizationThresholdPercent == 70 ? 75 : 70 };
        (await admin.PutAsync("/api/settings", Json.Body(wanted))).EnsureSuccessStatusCode();
        return await app.GetAsync();
    }
}
