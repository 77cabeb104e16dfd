using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Worker.Tests;

/// <summary>Against the real Redis semaphore (a key prefix of its own).</summary>
public sealed class Waiting_for_a_farm_slot : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private ConnectionMultiplexer _redis = null!;
    private RedisFarmSemaphore _semaphore = null!;
    private RedisFarmSemaphoreAdmin _admin = null!;
    private TestWorker _worker = null!;

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var options = Options.Create(new FarmSemaphoreOptions { KeyPrefix = $"test:worker:{Guid.NewGuid():N}" });
        _semaphore = new RedisFarmSemaphore(_redis, options);
        _admin = new RedisFarmSemaphoreAdmin(_redis, options);
        _worker = new TestWorker(semaphore: _semaphore);
    }

    [Fact]
    public async Task Fails_as_infrastructure_when_no_slot_comes_within_the_timeout_in_force()
    {
        await _admin.SetLimitAsync(0);
        _worker.Get<FarmSettingsCache>().Apply(new FarmSettings { SlotWaitTimeoutSeconds = 1 }, revision: 7);

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));

        Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
        Assert.Equal("no build slot within 1 s", finished.Reason);
        Assert.Empty(_worker.Events.Of<BuildRunStarted>());
        Assert.Empty(await _admin.GetWaitersAsync());
    }

    [Fact]
    public async Task Waits_as_long_as_its_dispatch_allows_when_it_names_a_wait()
    {
        await _admin.SetLimitAsync(0);
        _worker.Get<FarmSettingsCache>().Apply(new FarmSettings { SlotWaitTimeoutSeconds = 3600 }, revision: 7);

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head) with { SlotWaitTimeoutSeconds = 1 });

        Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
        Assert.Equal("no build slot within 1 s", finished.Reason);
        Assert.Empty(await _admin.GetWaitersAsync());
    }

    [Fact]
    public async Task Holds_the_slot_while_building_and_releases_it_after()
    {
        await _admin.SetLimitAsync(1);
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        var finished = await _worker.BuildAsync(request);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var started = Assert.Single(_worker.Events.Of<BuildRunStarted>());
        Assert.Equal(started.FencingToken, finished.FencingToken);
        Assert.Empty(await _admin.GetHoldersAsync());
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _admin.ClearAsync();
        await _semaphore.DisposeAsync();
        await _redis.DisposeAsync();
        _repository.Dispose();
    }
}
