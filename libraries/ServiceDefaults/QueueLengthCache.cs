namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The queue's length for the queue-size limit (maxQueueSize), without counting a long queue for every submission:
/// counting 100,000 queued rows costs some 20 ms. The count is exact while the queue is short (below
/// <see cref="ExactBelow"/>, cheap to count) or within <see cref="ExactWithin"/> of the limit; in between, a count up to
/// <see cref="MaxAge"/> old is used. No farm accepts 20,000 builds in a second, so the limit still holds exactly.
/// </summary>
public sealed class QueueLengthCache(TimeProvider time)
{
    public const long ExactBelow = 20_000;
    public const long ExactWithin = 20_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private sealed record Counted(long Length, DateTimeOffset At);

    private Counted? last;

    public async Task<long> LengthAsync(long limit, Func<CancellationToken, Task<long>> count, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (Volatile.Read(ref last) is { } known && known.Length >= ExactBelow && known.Length < limit - ExactWithin && now - known.At < MaxAge)
        {
            return known.Length;
        }
        var length = await count(ct);
        Volatile.Write(ref last, new Counted(length, now));
        return length;
    }
}
