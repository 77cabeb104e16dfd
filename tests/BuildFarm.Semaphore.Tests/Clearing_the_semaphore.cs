using BuildFarm.Testing;

namespace BuildFarm.Semaphore.Tests;

public sealed class Clearing_the_semaphore
{
    [Fact]
    public async Task Empties_holders_and_waiters_and_keeps_the_limit()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 2);
        var other = await scope.AddInstanceAsync();
        var first = await other.AcquireAsync(SemaphoreScope.Request("first"), CancellationToken.None);
        var second = await other.AcquireAsync(SemaphoreScope.Request("second"), CancellationToken.None);
        var waitingA = other.AcquireAsync(SemaphoreScope.Request("waiter-a"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("waiter-a");
        var waitingB = other.AcquireAsync(SemaphoreScope.Request("waiter-b"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("waiter-b");

        await scope.Admin.ClearAsync();

        await Eventually.FiresAsync(first.Lost);
        await Eventually.FiresAsync(second.Lost);
        Assert.Equal("waiter-a", (await Assert.ThrowsAsync<SlotWaiterRemovedException>(() => waitingA.WaitAsync(SemaphoreScope.Patience))).HolderId);
        Assert.Equal("waiter-b", (await Assert.ThrowsAsync<SlotWaiterRemovedException>(() => waitingB.WaitAsync(SemaphoreScope.Patience))).HolderId);
        Assert.Empty(await scope.Admin.GetHoldersAsync());
        Assert.Empty(await scope.Admin.GetWaitersAsync());
        Assert.Equal(2, await scope.Admin.GetLimitAsync());

        await using var after = await scope.First.AcquireAsync(SemaphoreScope.Request("after"), CancellationToken.None);
        Assert.True(after.FencingToken > second.FencingToken);
        await first.DisposeAsync();
        await second.DisposeAsync();
        Assert.Equal("after", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
    }
}
