using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Scheduler.Tests;

/// <summary>The queue-size limit counts a short queue, or one near the limit, every time; a long one at most once a second.</summary>
public sealed class Counting_a_long_queue
{
    [Fact]
    public async Task A_count_is_reused_only_far_from_both_ends_and_for_at_most_a_second()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
        var cache = new QueueLengthCache(clock);
        var counts = 0;
        var length = 0L;
        Task<long> Count(CancellationToken _)
        {
            counts++;
            return Task.FromResult(length);
        }
        async Task<(long, int)> Ask(long limit) => (await cache.LengthAsync(limit, Count, CancellationToken.None), counts);

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
        Assert.Equal((101_000, 5), await Ask(1_000_000));  // a second old: counted again
    }
}
