using BuildFarm.Testing;

namespace BuildFarm.Semaphore.Tests;

/// <summary>Redis killed with SIGKILL and started again as ./farm starts it, with its files or without them.</summary>
public sealed class A_redis_restarted
{
    private static readonly TimeSpan ShortTtl = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task With_its_append_only_file_keeps_the_limit_the_leases_and_their_tokens()
    {
        await using var redis = await FarmRedis.StartAsync();
        var settings = await redis.AddAdminAsync();
        // A lease ttl that outlasts a slow restart on a busy machine (kept data still expires by Redis's clock).
        var worker = await redis.AddInstanceAsync(o => o.LeaseTtl = TimeSpan.FromSeconds(15));
        await settings.SetLimitAsync(3);
        await using var lease = await worker.AcquireAsync(SemaphoreScope.Request("build-1:1"), CancellationToken.None);

        await redis.KillAndStartAsync(loseData: false);

        var holders = await FarmRedis.WhenReachableAsync(settings.GetHoldersAsync);
        Assert.Equal(("build-1:1", lease.FencingToken), (Assert.Single(holders).HolderId, holders[0].FencingToken));
        object? limit = await settings.GetLimitAsync();
        Assert.Equal(3, limit);
        // Renewed past the ttl it had when Redis was killed: the lease held throughout.
        await Eventually.HoldsAsync(async () => (await settings.GetHoldersAsync()).Single().LeaseExpiresAt > holders[0].LeaseExpiresAt,
            "the lease is renewed past its ttl at the kill");
        Assert.False(lease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task With_its_append_only_file_a_slot_given_back_while_it_was_down_goes_back_when_it_answers()
    {
        await using var redis = await FarmRedis.StartAsync();
        var settings = await redis.AddAdminAsync();
        // A ttl far longer than the wait below: the slot must go back because it was released, not because it expired.
        var worker = await redis.AddInstanceAsync(o => o.LeaseTtl = TimeSpan.FromSeconds(90));
        await settings.SetLimitAsync(2);
        var given = await worker.AcquireAsync(SemaphoreScope.Request("build-1:1"), CancellationToken.None);
        await using var kept = await worker.AcquireAsync(SemaphoreScope.Request("build-2:1"), CancellationToken.None);

        await redis.KillAsync();
        await given.DisposeAsync();
        await redis.StartAgainAsync(loseData: false);

        IReadOnlyList<string> holders = [];
        await Eventually.HoldsAsync(async () => (holders = [.. (await FarmRedis.WhenReachableAsync(settings.GetHoldersAsync)).Select(h => h.HolderId)]).SequenceEqual(["build-2:1"]),
            "only the slot still held is taken", TimeSpan.FromSeconds(30), () => string.Join(", ", holders));
        Assert.False(kept.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Without_its_data_issues_fencing_tokens_larger_than_every_earlier_one()
    {
        await using var redis = await FarmRedis.StartAsync();
        var worker = await redis.AddInstanceAsync();
        await (await redis.AddAdminAsync()).SetLimitAsync(1);
        long last = 0;
        for (var i = 0; i < 3; i++)
        {
            await using var lease = await worker.AcquireAsync(SemaphoreScope.Request($"before-{i}"), CancellationToken.None);
            last = lease.FencingToken;
        }

        await redis.KillAndStartAsync(loseData: true);
        var fresh = await redis.AddInstanceAsync();
        var settings = await redis.AddAdminAsync();
        await FarmRedis.WhenReachableAsync(async () => { await settings.SetLimitAsync(1); return true; });
        await using var after = await fresh.AcquireAsync(SemaphoreScope.Request("after"), CancellationToken.None);

        Assert.True(after.FencingToken > last, $"{after.FencingToken} after {last}");
    }

    [Fact]
    public async Task Without_its_data_a_held_lease_re_claims_its_slot_and_a_waiter_queues_again()
    {
        await using var redis = await FarmRedis.StartAsync();
        var settings = await redis.AddAdminAsync(o => o.LeaseTtl = ShortTtl);
        var worker = await redis.AddInstanceAsync(o => (o.LeaseTtl, o.WaiterTtl) = (ShortTtl, ShortTtl));
        var other = await redis.AddInstanceAsync(o => (o.LeaseTtl, o.WaiterTtl) = (ShortTtl, ShortTtl));
        await settings.SetLimitAsync(1);
        var lease = await worker.AcquireAsync(SemaphoreScope.Request("running"), CancellationToken.None);
        var lostToken = lease.FencingToken;
        var waiting = other.AcquireAsync(SemaphoreScope.Request("waiting"), CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await settings.GetWaitersAsync()).Any(w => w.HolderId == "waiting"), "waiting waits");

        await redis.KillAndStartAsync(loseData: true);
        await FarmRedis.WhenReachableAsync(async () => { await settings.SetLimitAsync(1); return true; }); // as Settings does

        await Eventually.HoldsAsync(async () => (await settings.GetHoldersAsync()).Any(h => h.HolderId == "running"), "the running lease holds its slot again");
        var holder = Assert.Single(await settings.GetHoldersAsync());
        Assert.Equal(("running", lease.FencingToken), (holder.HolderId, holder.FencingToken));
        Assert.True(lease.FencingToken > lostToken, $"{lease.FencingToken} after {lostToken}");
        Assert.False(lease.Lost.IsCancellationRequested);
        await Eventually.HoldsAsync(async () => (await settings.GetWaitersAsync()).Any(w => w.HolderId == "waiting"), "waiting waits");
        Assert.False(waiting.IsCompleted);

        await lease.DisposeAsync();
        await using var next = await waiting.WaitAsync(SemaphoreScope.Patience);
        Assert.True(next.FencingToken > lease.FencingToken);

        // An admin's release after the reset is still a real loss.
        Assert.True(await settings.ForceReleaseAsync("waiting"));
        await Eventually.FiresAsync(next.Lost, "the force-released lease is lost");
    }

    [Fact]
    public async Task Without_its_data_new_waiters_do_not_take_the_slots_of_leases_that_re_claim()
    {
        // The grace is half the lease ttl, renewal comes every third: 2.5 s to spare for the lease to find the reset.
        var ttl = TimeSpan.FromSeconds(15);
        await using var redis = await FarmRedis.StartAsync();
        var settings = await redis.AddAdminAsync(o => o.LeaseTtl = ttl);
        var worker = await redis.AddInstanceAsync(o => (o.LeaseTtl, o.WaiterTtl) = (ttl, ShortTtl));
        await settings.SetLimitAsync(2);
        await using var lease = await worker.AcquireAsync(SemaphoreScope.Request("running"), CancellationToken.None);

        await redis.KillAndStartAsync(loseData: true);
        // A Worker started after the restart asks first for two slots; then Settings sets the limit again.
        var fresh = await redis.AddInstanceAsync(o => (o.LeaseTtl, o.WaiterTtl) = (ShortTtl, ShortTtl));
        var first = fresh.AcquireAsync(SemaphoreScope.Request("new-1"), CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await settings.GetWaitersAsync()).Any(w => w.HolderId == "new-1"), "new-1 waits");
        var second = fresh.AcquireAsync(SemaphoreScope.Request("new-2"), CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await settings.GetWaitersAsync()).Any(w => w.HolderId == "new-2"), "new-2 waits");
        await settings.SetLimitAsync(2);

        await using var granted = await first.WaitAsync(SemaphoreScope.Patience);
        Assert.Equal(["new-1", "running"], (await settings.GetHoldersAsync()).Select(h => h.HolderId).Order());
        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.False(second.IsCompleted);
        Assert.Equal("new-2", Assert.Single(await settings.GetWaitersAsync()).HolderId);
    }

    [Fact]
    public async Task Without_its_data_and_without_a_limit_a_lease_waits_visibly_then_is_lost_after_its_ttl()
    {
        await using var redis = await FarmRedis.StartAsync();
        var worker = await redis.AddInstanceAsync(o => (o.LeaseTtl, o.WaiterTtl) = (ShortTtl, ShortTtl));
        await (await redis.AddAdminAsync()).SetLimitAsync(1);
        var lease = await worker.AcquireAsync(SemaphoreScope.Request("running"), CancellationToken.None);
        var admin = await redis.AddAdminAsync();

        await redis.KillAndStartAsync(loseData: true);

        await Eventually.HoldsAsync(async () => (await FarmRedis.WhenReachableAsync(admin.GetWaitersAsync)).Any(w => w.HolderId == "running"),
            "the running lease waits for a slot");
        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.Empty(await admin.GetHoldersAsync());
        await Eventually.FiresAsync(lease.Lost, "the lease is lost");
        await lease.DisposeAsync();
        await Eventually.HoldsAsync(async () => (await admin.GetWaitersAsync()).Count == 0, "no one waits");
    }
}
