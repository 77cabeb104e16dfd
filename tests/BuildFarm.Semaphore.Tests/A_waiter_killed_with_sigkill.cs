namespace BuildFarm.Semaphore.Tests;

public sealed class A_waiter_killed_with_sigkill
{
    [Fact]
    public async Task Does_not_block_the_queue()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        using var helper = HelperProcess.Start("wait", scope.Prefix, "doomed", TimeSpan.FromSeconds(1));
        Assert.Equal("waiting", await helper.ReadLineAsync());
        var other = await scope.AddInstanceAsync();
        var waiting = other.AcquireAsync(SemaphoreScope.Request("survivor"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("survivor");
        Assert.Equal(["doomed", "survivor"], (await scope.Admin.GetWaitersAsync()).Select(w => w.HolderId));

        Assert.Equal(137, await helper.KillWithSigkillAsync());
        await blocker.DisposeAsync();
        await using var lease = await waiting;

        Assert.Equal("survivor", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        Assert.Empty(await scope.Admin.GetWaitersAsync());
    }
}
