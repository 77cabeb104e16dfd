using System.Collections.Concurrent;

namespace BuildFarm.Semaphore.Tests;

public sealed class A_higher_priority_waiter_enqueued_later
{
    [Fact]
    public async Task Is_served_before_lower_ones()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var other = await scope.AddInstanceAsync();
        var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        var granted = new ConcurrentQueue<string>();
        var waiting = new List<Task>();
        (string Id, int Priority)[] arrivals = [("low-a", 0), ("normal-a", 1), ("low-b", 0), ("urgent", 3), ("normal-b", 1), ("high", 2)];
        foreach (var (id, priority) in arrivals)
        {
            waiting.Add(Task.Run(async () =>
            {
                await using var lease = await other.AcquireAsync(SemaphoreScope.Request(id, priority), CancellationToken.None);
                granted.Enqueue(id);
            }));
            await scope.WaitUntilQueuedAsync(id);
        }
        string[] expected = ["urgent", "high", "normal-a", "normal-b", "low-a", "low-b"];

        var queue = await scope.Admin.GetWaitersAsync();
        Assert.Equal(expected, queue.Select(w => w.HolderId));
        Assert.Equal([3, 2, 1, 1, 0, 0], queue.Select(w => w.Priority));

        await blocker.DisposeAsync();
        await Task.WhenAll(waiting).WaitAsync(SemaphoreScope.Patience);

        Assert.Equal(expected, granted);
    }
}
