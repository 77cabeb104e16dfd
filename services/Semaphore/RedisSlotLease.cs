using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Semaphore;

/// <summary>
/// A claimed grant: renewed every third of the lease ttl; <see cref="Lost"/> fires when renewal says another
/// holds the slot (or none), when Redis reports the lease gone, or when no renewal succeeded within the ttl.
/// </summary>
internal sealed class RedisSlotLease : SlotLease
{
    private const int Held = 0;
    private const int LostState = 1;
    private const int Disposed = 2;

    private readonly RedisFarmSemaphore _owner;
    private readonly ILogger _logger;
    private readonly TimeSpan _ttl;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _renewal = Task.CompletedTask;
    private long _validUntil;
    private int _state;

    public RedisSlotLease(RedisFarmSemaphore owner, ILogger logger, string holderId, long fencingToken, TimeSpan ttl)
    {
        _owner = owner;
        _logger = logger;
        _ttl = ttl;
        HolderId = holderId;
        FencingToken = fencingToken;
    }

    public override string HolderId { get; }

    public override long FencingToken { get; }

    public override CancellationToken Lost => _lost.Token;

    public bool IsHeld => Volatile.Read(ref _state) == Held;

    /// <summary>Starts renewing; <paramref name="claimSentAt"/> is when the claim that set the expiry was sent.</summary>
    public void Start(long claimSentAt)
    {
        _validUntil = claimSentAt + Ticks(_ttl);
        _renewal = RenewAsync();
    }

    /// <summary>The lease is gone: stop renewing and tell the holder. Only the first call counts.</summary>
    public void MarkLost(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, LostState, Held) != Held)
        {
            return;
        }
        _owner.OnLeaseLost(this, reason);
        _stop.Cancel();
        _ = _lost.CancelAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        var previous = Interlocked.Exchange(ref _state, Disposed);
        if (previous == Disposed)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewal.ConfigureAwait(false);
        _stop.Dispose();
        await _owner.OnLeaseDisposedAsync(this, stillHeld: previous == Held).ConfigureAwait(false);
    }

    private async Task RenewAsync()
    {
        var interval = _ttl / 3;
        var delay = interval;
        while (true)
        {
            try
            {
                await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var sentAt = Stopwatch.GetTimestamp();
            try
            {
                if (!await _owner.RenewAsync(this).ConfigureAwait(false))
                {
                    MarkLost("renewal found that it no longer holds the slot");
                    return;
                }
                Volatile.Write(ref _validUntil, sentAt + Ticks(_ttl));
                delay = interval;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var left = Volatile.Read(ref _validUntil) - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    MarkLost("no renewal succeeded within the lease ttl");
                    return;
                }
                _logger.LogWarning(e, "Renewing the build-slot lease of {HolderId} failed; retrying", HolderId);
                delay = TimeSpan.FromTicks(Math.Min(interval.Ticks, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency / 4).Ticks + 1));
            }
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
