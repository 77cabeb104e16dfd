namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The queue's length for the queue-size limit (maxQueueSize), without counting a long queue for every submission:
/// counting 100,000 queued rows costs some 20 ms on a quiet machine, and far more under a mass rebuild's load. Counts are
/// shared: a question that needs an exact count gets the first count that starts after it was asked (one runs at a time,
/// so the questions asked while one runs share the next), which is exact for it. The count is exact while the queue is
/// short (below <see cref="ExactBelow"/>) or within <see cref="ExactWithin"/> of the limit; in between, a count up to
/// <see cref="MaxAge"/> old is used, and an older one (up to <see cref="MaxStale"/>) while a fresh one runs. Every
/// submission of a mass rebuild counting on its own had slowed acceptance from 148 to about 10 per second at 26,000
/// queued (`./farm bench`, scenario 5).
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
    private Task<Counted>? running;
    private Task<Counted>? queued;

    public async Task<long> LengthAsync(long limit, Func<CancellationToken, Task<long>> count, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(count);
        var now = time.GetUtcNow();
        var known = Volatile.Read(ref last);
        if (known is not null && known.Length >= ExactBelow && known.Length < limit - ExactWithin && now - known.At < MaxStale)
        {
            if (now - known.At >= MaxAge)
            {
                Refresh(count);
            }
            return known.Length;
        }
        return (await NextCount(count).WaitAsync(ct)).Length;
    }

    /// <summary>Starts a count unless one runs.</summary>
    private void Refresh(Func<CancellationToken, Task<long>> count)
    {
        lock (gate)
        {
            if (running is null || running.IsCompleted)
            {
                running = CountNowAsync(count);
            }
        }
    }

    /// <summary>The first count that starts from now on: a new one, or the one queued behind the count that runs.</summary>
    private Task<Counted> NextCount(Func<CancellationToken, Task<long>> count)
    {
        lock (gate)
        {
            if (running is null || running.IsCompleted)
            {
                running = CountNowAsync(count);
                return running;
            }
            return queued ??= CountAfterAsync(running, count);
        }
    }

    private async Task<Counted> CountAfterAsync(Task<Counted> before, Func<CancellationToken, Task<long>> count)
    {
        // Off the caller's thread, which holds the gate: the rest takes it itself.
        await Task.Yield();
        try
        {
            await before.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its own questions see its failure; this count is a new one.
        }
        Task<Counted> mine;
        lock (gate)
        {
            mine = running = CountNowAsync(count);
            queued = null;
        }
        return await mine.ConfigureAwait(false);
    }

    /// <summary>A count on the thread pool, to its end whoever waits for it.</summary>
    private async Task<Counted> CountNowAsync(Func<CancellationToken, Task<long>> count)
    {
        var started = time.GetUtcNow();
        var length = await Task.Run(() => count(CancellationToken.None)).ConfigureAwait(false);
        var counted = new Counted(length, started);
        Volatile.Write(ref last, counted);
        return counted;
    }
}
