using System.Collections.Concurrent;

namespace BuildFarm.Semaphore.Tests;

public sealed class Waiters_of_equal_priority
{
    [Fact]
    public async Task Are_granted_in_the_order_they_arrived()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        RedisFarmSemaphore[] processes = [scope.First, await scope.AddInstanceAsync()];
        var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        var granted = new ConcurrentQueue<string>();
        var waiting = new List<Task>();
        var ids = Enumerable.Range(0, 10).Select(i => $"build-{i}").ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            var (process, id) = (processes[i % 2], ids[i]);
            waiting.Add(Task.Run(async () =>
            {
                await using var lease = await process.AcquireAsync(SemaphoreScope.Request(id), CancellationToken.None);
                granted.Enqueue(id);
            }));
            await scope.WaitUntilQueuedAsync(id);
        }

        var queue = await scope.Admin.GetWaitersAsync();
        Assert.Equal(ids, queue.Select(w => w.HolderId));
        Assert.Equal(Enumerable.Range(1, 10), queue.Select(w => w.Position));

        await blocker.DisposeAsync();
        await Task.WhenAll(waiting).WaitAsync(SemaphoreScope.Patience);

        Assert.Equal(ids, granted);
    }
}
