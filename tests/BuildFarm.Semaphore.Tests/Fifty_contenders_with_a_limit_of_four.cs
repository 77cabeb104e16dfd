using System.Collections.Concurrent;

namespace BuildFarm.Semaphore.Tests;

public sealed class Fifty_contenders_with_a_limit_of_four
{
    [Fact]
    public async Task Never_have_more_than_four_holders_at_once()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 4);
        RedisFarmSemaphore[] processes = [scope.First, await scope.AddInstanceAsync(), await scope.AddInstanceAsync()];
        var inside = 0;
        var mostInside = 0;
        var mostListed = 0;
        var tokens = new ConcurrentBag<long>();
        var notListed = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            await using var lease = await processes[i % 3].AcquireAsync(SemaphoreScope.Request($"build-{i}:1"), CancellationToken.None);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref mostInside, now);
            var holders = await scope.Admin.GetHoldersAsync();
            InterlockedMax(ref mostListed, holders.Count);
            if (!holders.Any(h => h.HolderId == lease.HolderId && h.FencingToken == lease.FencingToken))
            {
                notListed.Add(lease.HolderId);
            }
            tokens.Add(lease.FencingToken);
            await Task.Delay(10);
            Interlocked.Decrement(ref inside);
        })));

        Assert.InRange(mostInside, 1, 4);
        Assert.InRange(mostListed, 1, 4);
        Assert.Empty(notListed);
        Assert.Equal(50, tokens.Distinct().Count());
        Assert.Empty(await scope.Admin.GetHoldersAsync());
        Assert.Empty(await scope.Admin.GetWaitersAsync());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
