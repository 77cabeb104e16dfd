using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Settings.Tests;

public sealed class Bootstrapping_without_the_settings_service
{
    [Fact]
    public async Task Keeps_the_defaults_after_its_attempts()
    {
        var rabbitMq = await TestServers.CreateVirtualHostAsync("settings-absent");
        try
        {
            using var host = await BusHost.StartAsync(rabbitMq, _ => { }, services => services.AddFarmSettingsBootstrap(o =>
            {
                o.Attempts = 2;
                o.Timeout = TimeSpan.FromMilliseconds(500);
                o.RetryDelay = TimeSpan.FromMilliseconds(100);
            }));

            Assert.False(await host.Services.GetRequiredService<FarmSettingsBootstrap>().Completion.WaitAsync(Eventually.Patience));

            var cache = host.Services.GetRequiredService<FarmSettingsCache>();
            Assert.Equal((new FarmSettings(), 0L), (cache.Current, cache.Revision));
            await host.StopAsync();
        }
        finally
        {
            await TestServers.DeleteVirtualHostAsync(rabbitMq);
        }
    }
}
