namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The queue's length for the queue-size limit (maxQueueSize), without counting a long queue for every submission:
/// counting 100,000 queued rows costs some 20 ms on a quiet machine, and far more under a mass rebuild's load. The count
/// is exact while the queue is short (below <see cref="ExactBelow"/>, cheap to count) or within <see cref="ExactWithin"/>
/// of the limit; in between, a count up to <see cref="MaxAge"/> old is used, and when it is older, one count runs while
/// the others go on with the last one (for at most <see cref="MaxStale"/>). Every submission of a mass rebuild counting
/// at once had slowed acceptance from 148 to about 10 per second at 26,000 queued (`./farm bench`, scenario 5). No farm
/// accepts 20,000 builds in a few seconds, so the limit still holds exactly.
/// </summary>
public sealed class QueueLengthCache(TimeProvider time)
{
    public const long ExactBelow = 20_000;
    public const long ExactWithin = 20_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxStale = TimeSpan.FromSeconds(10);

    private sealed record Counted(long Length, DateTimeOffset At);

    private readonly Lock gate = new();
    private Counted? last;
    private Task<long>? counting;

    public async Task<long> LengthAsync(long limit, Func<CancellationToken, Task<long>> count, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(count);
        var now = time.GetUtcNow();
        var known = Volatile.Read(ref last);
        var cacheable = known is not null && known.Length >= ExactBelow && known.Length < limit - ExactWithin;
        if (cacheable && now - known!.At < MaxAge)
        {
            return known.Length;
        }
        if (!cacheable)
        {
            var exact = await count(ct);
            Volatile.Write(ref last, new Counted(exact, now));
            return exact;
        }
        Task<long> fresh;
        lock (gate)
        {
            if (counting is null || counting.IsCompleted)
            {
                counting = CountAsync(count);
            }
            fresh = counting;
        }
        return now - known!.At < MaxStale ? known.Length : await fresh.WaitAsync(ct);
    }

    /// <summary>One count for every caller: it runs to its end even if the caller that started it gives up.</summary>
    private async Task<long> CountAsync(Func<CancellationToken, Task<long>> count)
    {
        var started = time.GetUtcNow();
        var length = await Task.Run(() => count(CancellationToken.None));
        Volatile.Write(ref last, new Counted(length, started));
        return length;
    }
}
