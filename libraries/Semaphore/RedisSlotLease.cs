using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Semaphore;

/// <summary>
/// A claimed grant: renewed every third of the lease ttl. When renewal finds its entry gone because Redis lost its
/// data (the semaphore's epoch changed since the grant), it re-claims the slot (a new fencing token, within the limit
/// once the limit is known) for up to one lease ttl before it gives up. <see cref="Lost"/> fires when renewal says
/// another holds the slot (or none) in the same epoch, when Redis reports the lease gone (expired, force-released,
/// cleared), when no renewal succeeded within the ttl, or when the re-claim did not succeed in time.
/// </summary>
internal sealed class RedisSlotLease : SlotLease
{
    private const int Held = 0;
    private const int LostState = 1;
    private const int Disposed = 2;

    private readonly RedisFarmSemaphore _owner;
    private readonly ILogger _logger;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _reclaimEvery;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Task _renewal = Task.CompletedTask;
    private long _validUntil;
    private long _fencingToken;
    private string _epoch;
    private volatile bool _reclaiming;
    private int _state;

    public RedisSlotLease(RedisFarmSemaphore owner, ILogger logger, string holderId, string workerId, long fencingToken,
        string epoch, TimeSpan ttl, TimeSpan reclaimEvery)
    {
        _owner = owner;
        _logger = logger;
        _ttl = ttl;
        _reclaimEvery = reclaimEvery;
        HolderId = holderId;
        WorkerId = workerId;
        _fencingToken = fencingToken;
        _epoch = epoch;
    }

    public override string HolderId { get; }

    public string WorkerId { get; }

    public override long FencingToken => Interlocked.Read(ref _fencingToken);

    /// <summary>The semaphore's epoch in Redis when the slot was granted (or last re-claimed).</summary>
    public string Epoch => Volatile.Read(ref _epoch);

    public override CancellationToken Lost => _lost.Token;

    /// <summary>Until when (Stopwatch ticks) Redis keeps the slot without another renewal: its last renewal's send time plus the ttl.</summary>
    internal long ValidUntil => Volatile.Read(ref _validUntil);

    public bool IsHeld => Volatile.Read(ref _state) == Held;

    /// <summary>True while it asks for its slot again after Redis lost its data.</summary>
    public bool IsReclaiming => _reclaiming;

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

    /// <summary>A slot may have been granted to its re-claim: ask now rather than at the next poll.</summary>
    public void Wake()
    {
        if (_reclaiming && _wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }
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
                var (renewed, epoch) = await _owner.RenewAsync(this).ConfigureAwait(false);
                if (!renewed)
                {
                    if (epoch == Epoch)
                    {
                        MarkLost("renewal found that it no longer holds the slot");
                        return;
                    }
                    if (!await ReclaimAsync(epoch).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                else
                {
                    Volatile.Write(ref _validUntil, sentAt + Ticks(_ttl));
                }
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

    /// <summary>
    /// Redis lost its data (the epoch changed): asks for the slot again until it holds it or one lease ttl has passed.
    /// True when it holds the slot again (with a new fencing token); false when it was lost or disposed meanwhile.
    /// </summary>
    private async Task<bool> ReclaimAsync(string newEpoch)
    {
        _reclaiming = true;
        var lostToken = FencingToken;
        var giveUpAt = Stopwatch.GetTimestamp() + Ticks(_ttl);
        _logger.LogWarning("Redis lost the build slot of {HolderId} (fencing token {FencingToken}) with its data (epoch {Old} -> {New}); re-claiming it",
            HolderId, lostToken, Epoch, newEpoch);
        var toldWaiting = false;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var sentAt = Stopwatch.GetTimestamp();
                try
                {
                    var reply = await _owner.ReclaimAsync(this, lostToken).ConfigureAwait(false);
                    if (reply.Held)
                    {
                        Interlocked.Exchange(ref _fencingToken, reply.FencingToken);
                        Volatile.Write(ref _epoch, reply.Epoch);
                        Volatile.Write(ref _validUntil, sentAt + Ticks(_ttl));
                        _owner.OnLeaseReclaimed(this, lostToken);
                        return true;
                    }
                    if (!toldWaiting)
                    {
                        toldWaiting = true;
                        _logger.LogWarning(reply.LimitKnown
                            ? "The build slot of {HolderId} waits to be re-claimed (position {Position})"
                            : "The build slot of {HolderId} waits to be re-claimed (position {Position}): the farm-wide limit is unknown until Settings sets it again",
                            HolderId, reply.Position);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning(e, "Re-claiming the build slot of {HolderId} failed; retrying", HolderId);
                }
                var left = giveUpAt - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    await _owner.LeaveAsync(HolderId).ConfigureAwait(false);
                    MarkLost($"Redis lost its data and the slot was not re-claimed within {_ttl.TotalSeconds:0.#} s");
                    return false;
                }
                try
                {
                    var wait = TimeSpan.FromSeconds(Math.Min(_reclaimEvery.TotalSeconds, (double)left / Stopwatch.Frequency));
                    await _wake.WaitAsync(wait, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            // Disposed (or lost) while it waited: its place in the queue goes, and so does a grant it has not claimed.
            await _owner.LeaveAsync(HolderId).ConfigureAwait(false);
            return false;
        }
        finally
        {
            _reclaiming = false;
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
