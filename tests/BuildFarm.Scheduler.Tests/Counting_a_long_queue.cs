using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// The queue-size limit counts a short queue, or one near the limit, every time; a long one at most once a second, one
/// count at a time, the others going on with the last count meanwhile.
/// </summary>
public sealed class Counting_a_long_queue
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
    private int counts;
    private long length;

    private Task<long> Count(CancellationToken _)
    {
        Interlocked.Increment(ref counts);
        return Task.FromResult(Interlocked.Read(ref length));
    }

    [Fact]
    public async Task A_count_is_reused_only_far_from_both_ends_and_refreshed_after_a_second()
    {
        var cache = new QueueLengthCache(clock);
        async Task<(long, int)> Ask(long limit) => (await cache.LengthAsync(limit, Count, CancellationToken.None), Volatile.Read(ref counts));

        length = 19_999;
        Assert.Equal((19_999, 1), await Ask(1_000_000));
        Assert.Equal((19_999, 2), await Ask(1_000_000));   // short: counted again
        length = 100_000;
        Assert.Equal((100_000, 3), await Ask(1_000_000));
        length = 100_500;
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal((100_000, 3), await Ask(1_000_000));  // long and far from the limit: the count of 999 ms ago
        Assert.Equal((100_500, 4), await Ask(120_000));    // within 20,000 of this limit: counted
        clock.Advance(TimeSpan.FromMilliseconds(1000));
        length = 101_000;
        // A second old: answered from it while a fresh count runs, which the next question gets.
        Assert.Equal(100_500, (await Ask(1_000_000)).Item1);
        await Eventually.HoldsAsync(() => Volatile.Read(ref counts) == 5, "the fresh count ran");
        Assert.Equal((101_000, 5), await Ask(1_000_000));
        // Ten seconds old: the question waits for the count.
        clock.Advance(QueueLengthCache.MaxStale);
        length = 102_000;
        Assert.Equal((102_000, 6), await Ask(1_000_000));
    }

    [Fact]
    public async Task Many_questions_about_a_stale_count_start_one_count()
    {
        var cache = new QueueLengthCache(clock);
        length = 50_000;
        Assert.Equal(50_000, await cache.LengthAsync(1_000_000, Count, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(2));
        var slow = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<long> SlowCount(CancellationToken _)
        {
            Interlocked.Increment(ref counts);
            return slow.Task;
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => cache.LengthAsync(1_000_000, SlowCount, CancellationToken.None))));
        await Eventually.HoldsAsync(() => Volatile.Read(ref counts) == 2, "one count started");
        slow.SetResult(60_000);

        Assert.All(answers, a => Assert.Equal(50_000, a));
        await Eventually.HoldsAsync(async () => await cache.LengthAsync(1_000_000, SlowCount, CancellationToken.None) == 60_000, "the count is in");
        Assert.Equal(2, Volatile.Read(ref counts));
    }
}

/// <summary>Near the limit every question gets an exact count, but the questions asked while one runs share the next.</summary>
public sealed class Counting_a_queue_near_its_limit
{
    [Fact]
    public async Task Questions_asked_while_a_count_runs_share_the_next_count()
    {
        var cache = new QueueLengthCache(new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero)));
        var counts = new List<TaskCompletionSource<long>>();
        Task<long> Count(CancellationToken _)
        {
            var count = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (counts)
            {
                counts.Add(count);
            }
            return count.Task;
        }
        int Started()
        {
            lock (counts)
            {
                return counts.Count;
            }
        }

        var first = cache.LengthAsync(100_000, Count, CancellationToken.None);
        await Eventually.HoldsAsync(() => Started() == 1, "the first count started");
        var later = Enumerable.Range(0, 20).Select(_ => cache.LengthAsync(100_000, Count, CancellationToken.None)).ToList();
        await Task.Delay(100);
        Assert.Equal(1, Started());
        counts[0].SetResult(90_000);
        await Eventually.HoldsAsync(() => Started() == 2, "one more count started, after the first");
        counts[1].SetResult(90_020);

        Assert.Equal(90_000, await first);
        Assert.All(await Task.WhenAll(later), length => Assert.Equal(90_020, length));
        Assert.Equal(2, Started());
    }
}
