using BuildFarm.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

public sealed class Registering_the_semaphore
{
    [Fact]
    public async Task Binds_the_Semaphore_section_and_uses_the_registered_multiplexer()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var prefix = $"test:semaphore:{Guid.NewGuid():N}";
        await using var services = Services(redis, new()
        {
            ["Semaphore:KeyPrefix"] = prefix,
            ["Semaphore:LeaseTtl"] = "00:00:30",
        }, o => o.WaiterTtl = TimeSpan.FromSeconds(9));

        var semaphore = Assert.IsType<RedisFarmSemaphore>(services.GetRequiredService<IFarmSemaphore>());
        var options = services.GetRequiredService<IOptions<FarmSemaphoreOptions>>().Value;

        Assert.Same(semaphore, services.GetRequiredService<RedisFarmSemaphore>());
        Assert.Equal((prefix, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(9)),
            (options.KeyPrefix, options.LeaseTtl, options.WaiterTtl));
        var admin = Assert.IsType<RedisFarmSemaphoreAdmin>(services.GetRequiredService<IFarmSemaphoreAdmin>());
        await admin.SetLimitAsync(6);
        Assert.Equal(6, await admin.GetLimitAsync());
        await using (var lease = await semaphore.AcquireAsync(SemaphoreScope.Request("via-di"), CancellationToken.None))
        {
            Assert.Equal("via-di", Assert.Single(await admin.GetHoldersAsync()).HolderId);
        }
        await redis.GetDatabase().KeyDeleteAsync(new SemaphoreKeys(prefix).All);
    }

    [Fact]
    public async Task Rejects_invalid_options_naming_the_key()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        await using var services = Services(redis, new() { ["Semaphore:LeaseTtl"] = "00:00:00" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IFarmSemaphore>());
        var adminError = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IFarmSemaphoreAdmin>());

        Assert.Contains("LeaseTtl", error.Message);
        Assert.Contains("LeaseTtl", adminError.Message);
    }

    [Fact]
    public void Has_the_documented_defaults()
    {
        var options = new FarmSemaphoreOptions();

        Assert.Equal(("buildfarm:semaphore", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(15)), (options.KeyPrefix, options.LeaseTtl, options.WaiterTtl));
    }

    private static ServiceProvider Services(IConnectionMultiplexer redis, Dictionary<string, string?> settings, Action<FarmSemaphoreOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSingleton(redis);
        services.AddLogging();
        services.AddMetrics();
        services.AddFarmSemaphore(configure);
        services.AddFarmSemaphoreAdmin(configure);
        return services.BuildServiceProvider();
    }
}
