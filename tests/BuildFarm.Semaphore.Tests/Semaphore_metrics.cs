using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using BuildFarm.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

public sealed class Semaphore_metrics
{
    [Fact]
    public async Task Count_holders_waiters_grant_waits_and_lost_leases_on_the_BuildFarm_meter()
    {
        await using var metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = metrics.GetRequiredService<IMeterFactory>();
        var totals = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "BuildFarm" && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => totals.AddOrUpdate(instrument.Name + ".count", 1, (_, v) => v + 1));
        listener.Start();

        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var prefix = $"test:semaphore:{Guid.NewGuid():N}";
        var options = Options.Create(new FarmSemaphoreOptions { KeyPrefix = prefix });
        var admin = new RedisFarmSemaphoreAdmin(redis, options);
        await using (var semaphore = new RedisFarmSemaphore(redis, options, meterFactory: factory))
        {
            await admin.SetLimitAsync(1);
            var lease = await semaphore.AcquireAsync(SemaphoreScope.Request("measured"), CancellationToken.None);
            Assert.Equal(1, totals.GetValueOrDefault("buildfarm.semaphore.holders"));
            Assert.Equal(0, totals.GetValueOrDefault("buildfarm.semaphore.waiters"));
            Assert.Equal(1, totals.GetValueOrDefault("buildfarm.semaphore.grant_wait.count"));

            await admin.ForceReleaseAsync("measured");
            await Eventually.FiresAsync(lease.Lost);
            await lease.DisposeAsync();

            Assert.Equal(1, totals.GetValueOrDefault("buildfarm.semaphore.leases_lost"));
            Assert.Equal(0, totals.GetValueOrDefault("buildfarm.semaphore.holders"));
        }
        await redis.GetDatabase().KeyDeleteAsync(new SemaphoreKeys(prefix).All);
    }
}
