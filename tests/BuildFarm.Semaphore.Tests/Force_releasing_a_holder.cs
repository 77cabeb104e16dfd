using BuildFarm.Testing;

namespace BuildFarm.Semaphore.Tests;

public sealed class Force_releasing_a_holder
{
    [Fact]
    public async Task Fires_lost_on_its_lease_and_gives_the_slot_to_the_next_waiter()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var holderProcess = await scope.AddInstanceAsync();
        var waiterProcess = await scope.AddInstanceAsync();
        var victim = await holderProcess.AcquireAsync(SemaphoreScope.Request("victim"), CancellationToken.None);
        var waiting = waiterProcess.AcquireAsync(SemaphoreScope.Request("next"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("next");

        Assert.True(await scope.Admin.ForceReleaseAsync("victim"));

        await Eventually.FiresAsync(victim.Lost);
        await using var lease = await waiting.WaitAsync(SemaphoreScope.Patience);
        await victim.DisposeAsync();
        Assert.Equal("next", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        Assert.False(lease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Answers_false_for_one_that_holds_nothing()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);

        Assert.False(await scope.Admin.ForceReleaseAsync("nobody"));
    }
}
