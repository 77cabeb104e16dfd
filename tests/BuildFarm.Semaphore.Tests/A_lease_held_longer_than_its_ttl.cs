using BuildFarm.Testing;

namespace BuildFarm.Semaphore.Tests;

public sealed class A_lease_held_longer_than_its_ttl
{
    [Fact]
    public async Task Is_renewed_in_the_background_and_stays_held()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        // Renewed every third of the ttl; a holder that renews nothing for a whole ttl loses the slot, as it should. A ttl
        // of 1 s was lost on a 2-core machine whose test hosts starved this one's thread pool for a second; 3 s is not, and
        // waiting more than two ttls still shows renewal (without it the holder would be gone).
        var holder = await scope.AddInstanceAsync(o => o.LeaseTtl = TimeSpan.FromSeconds(3));
        await using var lease = await holder.AcquireAsync(SemaphoreScope.Request("long-build"), CancellationToken.None);
        var firstExpiry = Assert.Single(await scope.Admin.GetHoldersAsync()).LeaseExpiresAt;

        await Task.Delay(TimeSpan.FromSeconds(7));

        var now = Assert.Single(await scope.Admin.GetHoldersAsync());
        Assert.Equal(lease.FencingToken, now.FencingToken);
        Assert.True(now.LeaseExpiresAt > firstExpiry);
        Assert.False(lease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Fires_lost_when_renewal_finds_it_no_longer_holds_the_slot()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var holder = await scope.AddInstanceAsync(o => o.LeaseTtl = TimeSpan.FromSeconds(1.5));
        await using var lease = await holder.AcquireAsync(SemaphoreScope.Request("vanishing"), CancellationToken.None);

        // Remove the entry behind the semaphore's back (no pub/sub message): only renewal can notice.
        var keys = new SemaphoreKeys(scope.Prefix).All;
        await scope.Database.SortedSetRemoveAsync(keys[1], "vanishing");
        await scope.Database.HashDeleteAsync(keys[2], "vanishing");

        await Eventually.FiresAsync(lease.Lost);
        Assert.Empty(await scope.Admin.GetHoldersAsync());
    }
}
