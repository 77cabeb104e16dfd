using BuildFarm.Testing;
using StackExchange.Redis;

namespace BuildFarm.Settings.Tests;

/// <summary>Redis lost its data (restarted without persistence, flushed) or someone changed the limit behind Settings' back.</summary>
public sealed class Losing_the_limit_in_redis(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Sets_it_again_from_the_stored_settings_when_it_is_gone()
    {
        var stored = (await app.GetAsync()).Settings.MaxConcurrentBuilds;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        await Eventually.HoldsAsync(async () => Equals(await app.SemaphoreAdmin.GetLimitAsync(), stored), "the limit set at start");

        await redis.GetDatabase().KeyDeleteAsync(LimitKey);

        await Eventually.HoldsAsync(async () => await redis.GetDatabase().StringGetAsync(LimitKey) == stored, "the limit set again");
    }

    [Fact]
    public async Task Sets_it_again_from_the_stored_settings_when_it_differs()
    {
        var stored = (await app.GetAsync()).Settings.MaxConcurrentBuilds;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        await Eventually.HoldsAsync(async () => Equals(await app.SemaphoreAdmin.GetLimitAsync(), stored), "the limit set at start");

        await redis.GetDatabase().StringSetAsync(LimitKey, stored + 7);

        await Eventually.HoldsAsync(async () => await redis.GetDatabase().StringGetAsync(LimitKey) == stored, "the limit set again");
    }

    private RedisKey LimitKey => "{" + app.SemaphorePrefix + "}:limit";
}
