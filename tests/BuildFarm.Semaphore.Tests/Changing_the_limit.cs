namespace BuildFarm.Semaphore.Tests;

public sealed class Changing_the_limit
{
    [Fact]
    public async Task Raising_it_admits_waiters_at_once()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var other = await scope.AddInstanceAsync();
        await using var blocker = await scope.Admin.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        var waiting = new List<Task<SlotLease>>();
        foreach (var id in new[] { "a", "b", "c" })
        {
            waiting.Add(other.AcquireAsync(SemaphoreScope.Request(id), CancellationToken.None));
            await scope.WaitUntilQueuedAsync(id);
        }

        await scope.Admin.SetLimitAsync(4);
        var leases = await Task.WhenAll(waiting).WaitAsync(SemaphoreScope.Patience);

        Assert.Equal(4, await scope.Admin.GetLimitAsync());
        Assert.Equal(["blocker", "a", "b", "c"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));
        Assert.False(blocker.Lost.IsCancellationRequested);
        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task Lowering_it_drains_without_evicting_holders()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 3);
        var first = await scope.Admin.AcquireAsync(SemaphoreScope.Request("first"), CancellationToken.None);
        var second = await scope.Admin.AcquireAsync(SemaphoreScope.Request("second"), CancellationToken.None);
        var third = await scope.Admin.AcquireAsync(SemaphoreScope.Request("third"), CancellationToken.None);

        await scope.Admin.SetLimitAsync(1);
        var other = await scope.AddInstanceAsync();
        var waiting = other.AcquireAsync(SemaphoreScope.Request("next"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("next");
        Assert.Equal(["first", "second", "third"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));

        await first.DisposeAsync();
        Assert.Equal(["second", "third"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));
        Assert.Equal("next", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);

        await second.DisposeAsync();
        Assert.Equal("third", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        Assert.Equal("next", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);
        Assert.False(waiting.IsCompleted);
        Assert.False(third.Lost.IsCancellationRequested);

        await third.DisposeAsync();
        await using var lease = await waiting.WaitAsync(SemaphoreScope.Patience);
        Assert.Equal("next", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
    }

    [Fact]
    public async Task Unknown_it_grants_nothing_and_waiters_wait_visibly_until_it_is_set()
    {
        // Redis lost its data, or a fresh farm before Settings seeded the limit: no key, and no default to fall back on.
        await using var scope = await SemaphoreScope.CreateAsync(limit: 2);
        await scope.Database.KeyDeleteAsync(new SemaphoreKeys(scope.Prefix).All[0]);
        var worker = await scope.AddInstanceAsync();

        var waiting = worker.AcquireAsync(SemaphoreScope.Request("first"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("first");

        object? unknown = await scope.Admin.GetLimitAsync();
        Assert.Null(unknown);
        Assert.Empty(await scope.Admin.GetHoldersAsync()); // listing reaps and admits: still nothing granted
        Assert.Equal("first", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);
        Assert.False(waiting.IsCompleted);

        await scope.Admin.SetLimitAsync(1);
        await using var lease = await waiting.WaitAsync(SemaphoreScope.Patience);
        Assert.Equal("first", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => scope.Admin.SetLimitAsync(-1));
    }
}
