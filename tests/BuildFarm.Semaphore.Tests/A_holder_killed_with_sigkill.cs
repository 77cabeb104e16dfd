namespace BuildFarm.Semaphore.Tests;

public sealed class A_holder_killed_with_sigkill
{
    [Fact]
    public async Task Frees_its_slot_when_its_lease_expires_and_the_next_waiter_gets_it()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        using var helper = HelperProcess.Start("hold", scope.Prefix, "doomed", TimeSpan.FromSeconds(2));
        var line = await helper.ReadLineAsync();
        Assert.StartsWith("held ", line);
        var doomedToken = long.Parse(line["held ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var holder = Assert.Single(await scope.Admin.GetHoldersAsync());
        Assert.Equal(("doomed", doomedToken), (holder.HolderId, holder.FencingToken));

        // Its queue heartbeat comes every 20 s and it gives up after 15 s: only the timer set to the
        // dead holder's lease expiry can get it the slot.
        var survivor = await scope.AddInstanceAsync(o => o.WaiterTtl = TimeSpan.FromSeconds(60));
        var waiting = survivor.AcquireAsync(SemaphoreScope.Request("survivor", waitTimeout: TimeSpan.FromSeconds(15)), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("survivor");

        Assert.Equal(137, await helper.KillWithSigkillAsync());
        await using var lease = await waiting;

        Assert.True(lease.FencingToken > doomedToken);
        var now = Assert.Single(await scope.Admin.GetHoldersAsync());
        Assert.Equal("survivor", now.HolderId);
        Assert.False(lease.Lost.IsCancellationRequested);
    }
}
