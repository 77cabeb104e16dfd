namespace BuildFarm.Semaphore.Tests;

public sealed class Waiting_past_the_timeout
{
    [Fact]
    public async Task Throws_and_removes_the_waiter()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        var other = await scope.AddInstanceAsync();

        var error = await Assert.ThrowsAsync<SlotWaitTimeoutException>(() =>
            other.AcquireAsync(SemaphoreScope.Request("late", waitTimeout: TimeSpan.FromSeconds(1)), CancellationToken.None));

        Assert.Equal("no build slot within 1 s", error.Message);
        Assert.Equal(TimeSpan.FromSeconds(1), error.Waited);
        Assert.Empty(await scope.Admin.GetWaitersAsync());
        await blocker.DisposeAsync();
        Assert.Empty(await scope.Admin.GetHoldersAsync());
    }

    [Fact]
    public void Says_how_long_it_waited_for_the_farm_default()
    {
        Assert.Equal("no build slot within 300 s", new SlotWaitTimeoutException(TimeSpan.FromSeconds(300)).Message);
    }

    [Fact]
    public async Task Cancelling_the_wait_also_removes_the_waiter()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        await using var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = scope.First.AcquireAsync(SemaphoreScope.Request("cancelled"), cancel.Token);
        await scope.WaitUntilQueuedAsync("cancelled");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Empty(await scope.Admin.GetWaitersAsync());
    }

    [Fact]
    public async Task A_zero_timeout_takes_a_free_slot_at_once()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        await using var lease = await scope.First.AcquireAsync(SemaphoreScope.Request("eager", waitTimeout: TimeSpan.Zero), CancellationToken.None);

        await Assert.ThrowsAsync<SlotWaitTimeoutException>(() =>
            scope.First.AcquireAsync(SemaphoreScope.Request("second", waitTimeout: TimeSpan.Zero), CancellationToken.None));
        Assert.Equal("eager", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        Assert.Empty(await scope.Admin.GetWaitersAsync());
    }
}
