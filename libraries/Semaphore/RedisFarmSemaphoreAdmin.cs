using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore;

/// <summary>
/// <see cref="IFarmSemaphoreAdmin"/> in Redis: each call is one of the semaphore's Lua scripts, which reap and grant
/// as every script does (so listing also hands freed slots on). It subscribes to nothing and holds nothing.
/// </summary>
public sealed class RedisFarmSemaphoreAdmin : IFarmSemaphoreAdmin
{
    /// <summary>The largest limit <see cref="SetLimitAsync"/> accepts.</summary>
    public const int MaxLimit = 100_000;

    private readonly SemaphoreConnection _redis;
    private readonly ILogger _logger;

    public RedisFarmSemaphoreAdmin(IConnectionMultiplexer redis, IOptions<FarmSemaphoreOptions> options, ILogger<RedisFarmSemaphoreAdmin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = new SemaphoreConnection(redis, options.Value);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task<int?> GetLimitAsync()
    {
        var limit = (int)await _redis.EvaluateAsync(SemaphoreScript.GetLimit).ConfigureAwait(false);
        return limit < 0 ? null : limit;
    }

    public async Task SetLimitAsync(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        await _redis.EvaluateAsync(SemaphoreScript.SetLimit, limit).ConfigureAwait(false);
        _logger.LogInformation("Build-slot limit set to {Limit}", limit);
    }

    public async Task<IReadOnlyList<SlotHolder>> GetHoldersAsync() => (await ListAsync().ConfigureAwait(false)).Holders;

    public async Task<IReadOnlyList<SlotWaiter>> GetWaitersAsync() => (await ListAsync().ConfigureAwait(false)).Waiters;

    public async Task<bool> ForceReleaseAsync(string holderId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holderId);
        var released = (int)await _redis.EvaluateAsync(SemaphoreScript.ForceRelease, holderId).ConfigureAwait(false) == 1;
        if (released)
        {
            _logger.LogWarning("Build slot of {HolderId} force-released", holderId);
        }
        return released;
    }

    public async Task ClearAsync()
    {
        var result = (RedisResult[])(await _redis.EvaluateAsync(SemaphoreScript.Clear).ConfigureAwait(false))!;
        _logger.LogWarning("Build-slot semaphore cleared: {Holders} holders released, {Waiters} waiters dropped",
            (long)result[0], (long)result[1]);
    }

    private async Task<(IReadOnlyList<SlotHolder> Holders, IReadOnlyList<SlotWaiter> Waiters)> ListAsync()
    {
        var result = (RedisResult[])(await _redis.EvaluateAsync(SemaphoreScript.List).ConfigureAwait(false))!;
        var h = (RedisResult[])result[1]!;
        var holders = new List<SlotHolder>(h.Length / 5);
        for (var i = 0; i + 4 < h.Length; i += 5)
        {
            holders.Add(new SlotHolder(
                (string)h[i]!, (string)h[i + 1]!, SemaphoreConnection.ParseLong(h[i + 2]),
                DateTimeOffset.FromUnixTimeMilliseconds(SemaphoreConnection.ParseLong(h[i + 3])),
                DateTimeOffset.FromUnixTimeMilliseconds(SemaphoreConnection.ParseLong(h[i + 4]))));
        }
        holders.Sort((a, b) => a.FencingToken.CompareTo(b.FencingToken));

        var w = (RedisResult[])result[2]!;
        var waiters = new List<SlotWaiter>(w.Length / 4);
        for (var i = 0; i + 3 < w.Length; i += 4)
        {
            waiters.Add(new SlotWaiter(
                (string)w[i]!, (string)w[i + 1]!, (int)SemaphoreConnection.ParseLong(w[i + 2]), waiters.Count + 1,
                DateTimeOffset.FromUnixTimeMilliseconds(SemaphoreConnection.ParseLong(w[i + 3]))));
        }
        return (holders, waiters);
    }
}
