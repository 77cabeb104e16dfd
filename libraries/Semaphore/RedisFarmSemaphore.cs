using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore;

/// <summary>
/// <see cref="IFarmSemaphore"/> in Redis (its administration is <see cref="RedisFarmSemaphoreAdmin"/>). Every operation is one Lua script that reads the time from Redis,
/// reaps expired leases and dead waiters, and grants free slots to the head(s) of the queue (priority first,
/// then arrival). Grantees are told by pub/sub (one subscription per instance, shared by its waiters); the
/// waiters of an instance heartbeat their queue entries together and set one timer to the nearest expiry,
/// so an expired lease is reaped when it expires. Nothing polls at a fixed interval for a free slot.
/// Nothing is granted while Redis holds no limit (Settings sets it). Every script answers the semaphore's epoch in
/// Redis, which changes only when Redis lost its data: waiters then queue again and leases re-claim their slots.
/// </summary>
public sealed class RedisFarmSemaphore : IFarmSemaphore, IAsyncDisposable
{
    /// <summary>Priorities run from 0 to this.</summary>
    public const int MaxPriority = 1000;

    private readonly SemaphoreConnection _redis;
    private readonly FarmSemaphoreOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreMetrics _metrics;
    private readonly ConcurrentDictionary<string, LocalWaiter> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RedisSlotLease> _leases = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<bool> _wakePump = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Task? _pump;
    private long _expiryAt = long.MaxValue;
    private volatile bool _started;
    private volatile bool _disposed;

    public RedisFarmSemaphore(
        IConnectionMultiplexer redis,
        IOptions<FarmSemaphoreOptions> options,
        ILogger<RedisFarmSemaphore>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = new SemaphoreConnection(redis, options.Value);
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = new SemaphoreMetrics(meterFactory);
    }

    public async Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken)
    {
        Validate(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.WaitTimeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(request.WaitTimeout);
        }

        _metrics.Waiters.Add(1);
        var mayBeQueued = false;
        try
        {
            while (true)
            {
                var waiter = new LocalWaiter(request.HolderId);
                if (!_waiters.TryAdd(request.HolderId, waiter))
                {
                    throw new InvalidOperationException($"{request.HolderId} already waits for a build slot in this process.");
                }
                try
                {
                    mayBeQueued = true;
                    var sentAt = Stopwatch.GetTimestamp();
                    var (reply, epoch) = await _redis.RunAsync(SemaphoreScript.Acquire, request.HolderId, request.WorkerId,
                        request.Priority, SemaphoreConnection.Milliseconds(_options.WaiterTtl), SemaphoreConnection.Milliseconds(_options.LeaseTtl)).ConfigureAwait(false);
                    var result = (RedisResult[])reply!;
                    var status = (int)result[0];
                    if (status == 2)
                    {
                        mayBeQueued = false;
                        throw new InvalidOperationException($"{request.HolderId} already holds a build slot.");
                    }
                    if (status == 1)
                    {
                        mayBeQueued = false;
                        return Granted(request.HolderId, request.WorkerId, (long)result[1], epoch, sentAt, started);
                    }
                    NoteNearestExpiry((long)result[2], (long)result[3], keepEarlier: true);
                    if ((int)result[4] == 0)
                    {
                        _logger.LogWarning("{HolderId} waits for a build slot: the farm-wide limit is unknown (Redis holds none) until Settings sets it",
                            request.HolderId);
                    }
                    waiter.Epoch = epoch;
                    waiter.Enqueued = true;
                    _wakePump.Writer.TryWrite(true);
                    var outcome = await waiter.Outcome.WaitAsync(deadline.Token).ConfigureAwait(false);
                    if (outcome == WaitOutcome.Removed)
                    {
                        mayBeQueued = false;
                        throw new SlotWaiterRemovedException(request.HolderId);
                    }
                    ObjectDisposedException.ThrowIf(outcome == WaitOutcome.Disposed, this);
                    if (outcome == WaitOutcome.Reset)
                    {
                        _logger.LogWarning("Redis lost the queue entry of {HolderId} with its data; queueing again", request.HolderId);
                        continue;
                    }

                    var lease = await ClaimAsync(request.HolderId, request.WorkerId, started).ConfigureAwait(false);
                    if (lease is not null)
                    {
                        mayBeQueued = false;
                        return lease;
                    }
                    _logger.LogWarning("The build-slot grant of {HolderId} was gone before it was claimed; queueing again", request.HolderId);
                }
                finally
                {
                    _waiters.TryRemove(new KeyValuePair<string, LocalWaiter>(request.HolderId, waiter));
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SlotWaitTimeoutException(request.WaitTimeout);
        }
        finally
        {
            _metrics.Waiters.Add(-1);
            if (mayBeQueued)
            {
                await LeaveAsync(request.HolderId).ConfigureAwait(false);
            }
        }
    }

    public async Task<bool> ReleaseAbandonedAsync(string holderId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holderId);
        return (int)await _redis.EvaluateAsync(SemaphoreScript.ForceRelease, holderId).ConfigureAwait(false) == 1;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var waiter in _waiters.Values)
        {
            waiter.Complete(WaitOutcome.Disposed);
        }
        if (_started)
        {
            try
            {
                await _redis.Redis.GetSubscriber().UnsubscribeAsync(_redis.Keys.Channel, OnMessage).ConfigureAwait(false);
            }
            catch (RedisException e)
            {
                _logger.LogDebug(e, "Unsubscribing from {Channel} failed", _redis.Keys.Channel);
            }
        }
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(false);
        }
        _metrics.Dispose();
    }

    /// <summary>Renews the lease; false (with the epoch now in Redis) when it no longer holds the slot.</summary>
    internal async Task<(bool Renewed, string Epoch)> RenewAsync(RedisSlotLease lease)
    {
        var (reply, epoch) = await _redis.RunAsync(SemaphoreScript.Renew,
            lease.HolderId, lease.FencingToken, SemaphoreConnection.Milliseconds(_options.LeaseTtl)).ConfigureAwait(false);
        return ((int)((RedisResult[])reply!)[0] == 1, epoch);
    }

    /// <summary>Asks again for the slot of a lease that Redis lost with its data (queued ahead of every other waiter).</summary>
    internal async Task<ReclaimReply> ReclaimAsync(RedisSlotLease lease, long lostToken)
    {
        var (reply, epoch) = await _redis.RunAsync(SemaphoreScript.Reclaim, lease.HolderId, lease.WorkerId, lostToken,
            SemaphoreConnection.Milliseconds(_options.WaiterTtl), SemaphoreConnection.Milliseconds(_options.LeaseTtl)).ConfigureAwait(false);
        var result = (RedisResult[])reply!;
        return (int)result[0] == 1
            ? new ReclaimReply(true, (long)result[1], epoch, true, 0)
            : new ReclaimReply(false, 0, epoch, (int)result[2] == 1, (int)result[1]);
    }

    internal void OnLeaseReclaimed(RedisSlotLease lease, long lostToken)
    {
        _metrics.LeasesReclaimed.Add(1);
        _logger.LogWarning("Build slot of {HolderId} re-claimed after Redis lost its data: fencing token {LostToken} -> {FencingToken}",
            lease.HolderId, lostToken, lease.FencingToken);
    }

    internal void OnLeaseLost(RedisSlotLease lease, string reason)
    {
        _leases.TryRemove(new KeyValuePair<string, RedisSlotLease>(lease.HolderId, lease));
        _metrics.Holders.Add(-1);
        _metrics.LeasesLost.Add(1);
        _logger.LogError("Build-slot lease of {HolderId} (fencing token {FencingToken}) lost: {Reason}",
            lease.HolderId, lease.FencingToken, reason);
    }

    internal async Task OnLeaseDisposedAsync(RedisSlotLease lease, bool stillHeld)
    {
        _leases.TryRemove(new KeyValuePair<string, RedisSlotLease>(lease.HolderId, lease));
        if (!stillHeld)
        {
            return;
        }
        _metrics.Holders.Add(-1);
        if (await TryReleaseAsync(lease).ConfigureAwait(false) is { } failure)
        {
            _logger.LogWarning(failure, "Releasing the build slot of {HolderId} failed; tried again until Redis answers or its lease expires", lease.HolderId);
            _ = Task.Run(() => ReleaseWhenReachableAsync(lease));
        }
    }

    /// <summary>Gives the lease's slot back (the fencing token keeps it from releasing anyone else's); the failure, if Redis did not answer.</summary>
    private async Task<Exception?> TryReleaseAsync(RedisSlotLease lease)
    {
        try
        {
            await _redis.EvaluateAsync(SemaphoreScript.Release, lease.HolderId, lease.FencingToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return e;
        }
    }

    /// <summary>
    /// A slot given back while Redis was away goes back as soon as Redis answers again, not only when its lease expires (a
    /// farm of four slots would otherwise lose each one for up to a lease's ttl); once the lease would have expired there
    /// is nothing left to give back.
    /// </summary>
    private async Task ReleaseWhenReachableAsync(RedisSlotLease lease)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (Stopwatch.GetTimestamp() < lease.ValidUntil)
        {
            try
            {
                await Task.Delay(pause, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (await TryReleaseAsync(lease).ConfigureAwait(false) is null)
            {
                _logger.LogInformation("Released the build slot of {HolderId} once Redis answered again", lease.HolderId);
                return;
            }
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private async Task<RedisSlotLease?> ClaimAsync(string holderId, string workerId, long started)
    {
        var sentAt = Stopwatch.GetTimestamp();
        var (reply, epoch) = await _redis.RunAsync(SemaphoreScript.Claim, holderId, SemaphoreConnection.Milliseconds(_options.LeaseTtl)).ConfigureAwait(false);
        var result = (RedisResult[])reply!;
        return (int)result[0] == 1 ? Granted(holderId, workerId, (long)result[1], epoch, sentAt, started) : null;
    }

    /// <summary>A claimed grant becomes a lease that renews itself; <paramref name="sentAt"/> is when its expiry was set.</summary>
    private RedisSlotLease Granted(string holderId, string workerId, long fencingToken, string epoch, long sentAt, long started)
    {
        var reclaimEvery = TimeSpan.FromTicks(Math.Min(_options.WaiterTtl.Ticks / 3, TimeSpan.FromSeconds(1).Ticks));
        var lease = new RedisSlotLease(this, _logger, holderId, workerId, fencingToken, epoch, _options.LeaseTtl, reclaimEvery);
        _leases[holderId] = lease;
        _metrics.Holders.Add(1);
        _metrics.GrantWait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        lease.Start(sentAt);
        return lease;
    }

    internal async Task LeaveAsync(string holderId)
    {
        try
        {
            await _redis.EvaluateAsync(SemaphoreScript.Leave, holderId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _logger.LogWarning(e, "Removing the waiter {HolderId} failed; its entry expires by itself", holderId);
        }
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }
        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                return;
            }
            await _redis.Redis.GetSubscriber().SubscribeAsync(_redis.Keys.Channel, OnMessage).ConfigureAwait(false);
            _pump = Task.Run(PumpAsync, CancellationToken.None);
            _started = true;
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>
    /// Heartbeats this instance's queue entries (every third of the waiter ttl) and runs a heartbeat at the
    /// nearest lease or waiter expiry, which reaps it and grants the freed slot. Idle while nothing waits.
    /// </summary>
    private async Task PumpAsync()
    {
        var heartbeatEvery = _options.WaiterTtl / 3;
        var nextHeartbeat = long.MaxValue;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (_waiters.IsEmpty)
                {
                    nextHeartbeat = long.MaxValue;
                    await _wakePump.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false);
                    _wakePump.Reader.TryRead(out _);
                    continue;
                }
                var now = Stopwatch.GetTimestamp();
                if (nextHeartbeat == long.MaxValue)
                {
                    nextHeartbeat = now + Ticks(heartbeatEvery);
                }
                var due = Math.Min(nextHeartbeat, Volatile.Read(ref _expiryAt));
                if (due > now)
                {
                    var wait = TimeSpan.FromSeconds((double)(due - now) / Stopwatch.Frequency);
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    timer.CancelAfter(wait);
                    try
                    {
                        await _wakePump.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
                        _wakePump.Reader.TryRead(out _);
                    }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                    {
                        // The timer: time for a heartbeat, or something may have expired.
                    }
                    continue;
                }
                nextHeartbeat = Stopwatch.GetTimestamp() + Ticks(heartbeatEvery);
                await HeartbeatAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Build-slot waiter heartbeat failed; retrying");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task HeartbeatAsync()
    {
        var waiters = _waiters.Values.Where(w => w.Enqueued && !w.IsCompleted).ToArray();
        Volatile.Write(ref _expiryAt, long.MaxValue);
        if (waiters.Length == 0)
        {
            return;
        }
        var args = new object[waiters.Length + 1];
        args[0] = SemaphoreConnection.Milliseconds(_options.WaiterTtl);
        for (var i = 0; i < waiters.Length; i++)
        {
            args[i + 1] = waiters[i].HolderId;
        }
        var (reply, epoch) = await _redis.RunAsync(SemaphoreScript.Heartbeat, args).ConfigureAwait(false);
        var result = (RedisResult[])reply!;
        NoteNearestExpiry((long)result[0], (long)result[1], keepEarlier: true);
        for (var i = 0; i < waiters.Length; i++)
        {
            switch ((int)result[i + 2])
            {
                case 1:
                    waiters[i].Complete(WaitOutcome.Granted);
                    break;
                case 2:
                    // Gone from the queue: dropped (an admin, or it stopped heartbeating), or lost with Redis's data.
                    waiters[i].Complete(waiters[i].Epoch == epoch ? WaitOutcome.Removed : WaitOutcome.Reset);
                    break;
            }
        }
    }

    private void NoteNearestExpiry(long nearestMs, long nowMs, bool keepEarlier)
    {
        if (nearestMs < 0)
        {
            return;
        }
        // A little after the expiry, so that Redis's clock has surely passed it when the heartbeat runs.
        var delayMs = Math.Max(nearestMs - nowMs, 0) + 5;
        var at = Stopwatch.GetTimestamp() + delayMs * Stopwatch.Frequency / 1000;
        long current;
        do
        {
            current = Volatile.Read(ref _expiryAt);
            if (keepEarlier && current <= at)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _expiryAt, at, current) != current);
        _wakePump.Writer.TryWrite(true);
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        try
        {
            using var json = JsonDocument.Parse((string)message!);
            var root = json.RootElement;
            var kind = root.GetProperty("e").GetString();
            var ids = root.GetProperty("ids");
            switch (kind)
            {
                case "grant":
                    foreach (var id in ids.EnumerateArray())
                    {
                        if (_waiters.TryGetValue(id.GetString()!, out var waiter))
                        {
                            waiter.Complete(WaitOutcome.Granted);
                        }
                        else if (_leases.TryGetValue(id.GetString()!, out var reclaiming))
                        {
                            reclaiming.Wake();
                        }
                    }
                    break;
                case "drop":
                    foreach (var id in ids.EnumerateArray())
                    {
                        if (_waiters.TryGetValue(id.GetString()!, out var waiter) && waiter.Enqueued)
                        {
                            waiter.Complete(WaitOutcome.Removed);
                        }
                    }
                    break;
                case "lost":
                    var tokens = root.GetProperty("t");
                    var index = 0;
                    foreach (var id in ids.EnumerateArray())
                    {
                        var token = ParseToken(tokens[index++]);
                        if (_leases.TryGetValue(id.GetString()!, out var lease) && lease.FencingToken == token)
                        {
                            lease.MarkLost("the semaphore reports the slot released (expired or force-released)");
                        }
                    }
                    break;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            _logger.LogWarning(e, "Ignoring a malformed message on {Channel}", channel);
        }
    }

    internal sealed record ReclaimReply(bool Held, long FencingToken, string Epoch, bool LimitKnown, int Position);

    private static void Validate(SlotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.HolderId, nameof(request));
        ArgumentException.ThrowIfNullOrWhiteSpace(request.WorkerId, nameof(request));
        if (request.Priority is < 0 or > MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Priority, $"Priority must be between 0 and {MaxPriority}.");
        }
        if (request.WaitTimeout < TimeSpan.Zero && request.WaitTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.WaitTimeout, "WaitTimeout must not be negative.");
        }
    }

    private static long ParseToken(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number ? element.GetInt64() : SemaphoreConnection.ParseLong(element.GetString());

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
