using BuildFarm.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

/// <summary>
/// One semaphore (a unique key prefix) on the real Redis, seen by several instances that each have their own
/// connection, as separate processes would. <see cref="First"/> is the first instance, <see cref="Admin"/> an
/// administrator on its connection that asks the admin questions.
/// </summary>
internal sealed class SemaphoreScope : IAsyncDisposable
{
    private readonly List<(ConnectionMultiplexer Redis, RedisFarmSemaphore Semaphore)> _instances = [];

    private SemaphoreScope(string prefix) => Prefix = prefix;

    public string Prefix { get; }

    public RedisFarmSemaphore First => _instances[0].Semaphore;

    public RedisFarmSemaphoreAdmin Admin { get; private set; } = null!;

    public IDatabase Database => _instances[0].Redis.GetDatabase();

    public static TimeSpan Patience => Eventually.Patience;

    public static async Task<SemaphoreScope> CreateAsync(int limit)
    {
        var scope = new SemaphoreScope($"test:semaphore:{Guid.NewGuid():N}");
        await scope.AddInstanceAsync();
        scope.Admin = new RedisFarmSemaphoreAdmin(scope._instances[0].Redis, Options.Create(new FarmSemaphoreOptions { KeyPrefix = scope.Prefix }));
        await scope.Admin.SetLimitAsync(limit);
        return scope;
    }

    public async Task<RedisFarmSemaphore> AddInstanceAsync(Action<FarmSemaphoreOptions>? configure = null)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var options = new FarmSemaphoreOptions { KeyPrefix = Prefix };
        configure?.Invoke(options);
        var semaphore = new RedisFarmSemaphore(redis, Options.Create(options));
        _instances.Add((redis, semaphore));
        return semaphore;
    }

    public static SlotRequest Request(string holderId, int priority = 1, TimeSpan? waitTimeout = null) =>
        new(holderId, "worker-" + holderId, priority, waitTimeout ?? Patience);

    /// <summary>Waits (bounded) until <paramref name="holderId"/> is in the queue.</summary>
    public Task WaitUntilQueuedAsync(string holderId) =>
        Eventually.HoldsAsync(async () => (await Admin.GetWaitersAsync()).Any(w => w.HolderId == holderId), $"{holderId} is queued");

    public async ValueTask DisposeAsync()
    {
        var keys = new SemaphoreKeys(Prefix).All;
        await Database.KeyDeleteAsync(keys);
        foreach (var (redis, semaphore) in _instances)
        {
            await semaphore.DisposeAsync();
            await redis.DisposeAsync();
        }
    }
}
