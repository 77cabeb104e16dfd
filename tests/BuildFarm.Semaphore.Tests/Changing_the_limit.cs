using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

public sealed class Changing_the_limit
{
    /// <summary>Commands a Redis of the test's own ran for the clients' housekeeping, not for the semaphore's scripts.</summary>
    private static readonly HashSet<string> Housekeeping =
        ["evalsha", "eval", "info", "config", "ping", "echo", "client", "cluster", "subscribe", "unsubscribe", "select", "hello", "auth", "command", "role", "script"];

    [Fact]
    public async Task A_limit_of_ten_thousand_costs_an_acquire_what_a_limit_of_four_does()
    {
        await using var redis = await FarmRedis.StartAsync();
        var worker = await redis.AddInstanceAsync();
        var other = await redis.AddInstanceAsync();
        var admin = await redis.AddAdminAsync();
        await using var stats = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { IPAddress.Loopback, redis.Port } },
            AllowAdmin = true,
        });
        var server = stats.GetServers()[0];

        // The commands Redis ran inside the scripts of one acquire and release, with two other slots held; each is
        // also noted (limit, command, calls) for the failure message.
        var seen = new List<string>();
        async Task<long> CommandsOfOneAcquireAsync(int limit)
        {
            await admin.SetLimitAsync(limit);
            await using var first = await other.AcquireAsync(SemaphoreScope.Request($"held-a-{limit}"), CancellationToken.None);
            await using var second = await other.AcquireAsync(SemaphoreScope.Request($"held-b-{limit}"), CancellationToken.None);
            await using (await worker.AcquireAsync(SemaphoreScope.Request($"warm-up-{limit}"), CancellationToken.None))
            {
                // Every script this instance runs is loaded in Redis now (a first run sends its text).
            }
            await server.ConfigResetStatisticsAsync();
            await using (await worker.AcquireAsync(SemaphoreScope.Request($"measured-{limit}"), CancellationToken.None))
            {
            }
            var calls = 0L;
            foreach (var stat in (await server.InfoAsync("commandstats")).SelectMany(g => g))
            {
                var command = stat.Key.Replace("cmdstat_", "", StringComparison.Ordinal).Split('|')[0];
                if (!Housekeeping.Contains(command))
                {
                    var count = long.Parse(stat.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture);
                    seen.Add(string.Create(CultureInfo.InvariantCulture, $"limit {limit}: {command} x{count}"));
                    calls += count;
                }
            }
            return calls;
        }

        var four = await CommandsOfOneAcquireAsync(4);
        var tenThousand = await CommandsOfOneAcquireAsync(10_000);

        Assert.True(four > 0, "Redis counted the commands of the scripts");
        Assert.True(four == tenThousand, $"{four} commands with a limit of 4, {tenThousand} with 10,000:\n{string.Join("\n", seen)}");
        Assert.Equal(10_000, await admin.GetLimitAsync());
    }

    [Fact]
    public async Task Raising_it_admits_waiters_at_once()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var other = await scope.AddInstanceAsync();
        await using var blocker = await scope.First.AcquireAsync(SemaphoreScope.Request("blocker"), CancellationToken.None);
        var waiting = new List<Task<SlotLease>>();
        foreach (var id in new[] { "a", "b", "c" })
        {
            waiting.Add(other.AcquireAsync(SemaphoreScope.Request(id), CancellationToken.None));
            await scope.WaitUntilQueuedAsync(id);
        }

        await scope.Admin.SetLimitAsync(4);
        var leases = await Task.WhenAll(waiting).WaitAsync(SemaphoreScope.Patience);

        Assert.Equal(4, await scope.Admin.GetLimitAsync());
        Assert.Equal(["blocker", "a", "b", "c"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));
        Assert.False(blocker.Lost.IsCancellationRequested);
        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task Lowering_it_drains_without_evicting_holders()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 3);
        var first = await scope.First.AcquireAsync(SemaphoreScope.Request("first"), CancellationToken.None);
        var second = await scope.First.AcquireAsync(SemaphoreScope.Request("second"), CancellationToken.None);
        var third = await scope.First.AcquireAsync(SemaphoreScope.Request("third"), CancellationToken.None);

        await scope.Admin.SetLimitAsync(1);
        var other = await scope.AddInstanceAsync();
        var waiting = other.AcquireAsync(SemaphoreScope.Request("next"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("next");
        Assert.Equal(["first", "second", "third"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));

        await first.DisposeAsync();
        Assert.Equal(["second", "third"], (await scope.Admin.GetHoldersAsync()).Select(h => h.HolderId));
        Assert.Equal("next", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);

        await second.DisposeAsync();
        Assert.Equal("third", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        Assert.Equal("next", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);
        Assert.False(waiting.IsCompleted);
        Assert.False(third.Lost.IsCancellationRequested);

        await third.DisposeAsync();
        await using var lease = await waiting.WaitAsync(SemaphoreScope.Patience);
        Assert.Equal("next", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
    }

    [Fact]
    public async Task Unknown_it_grants_nothing_and_waiters_wait_visibly_until_it_is_set()
    {
        // Redis lost its data, or a fresh farm before Settings seeded the limit: no key, and no default to fall back on.
        await using var scope = await SemaphoreScope.CreateAsync(limit: 2);
        await scope.Database.KeyDeleteAsync(new SemaphoreKeys(scope.Prefix).All[0]);
        var worker = await scope.AddInstanceAsync();

        var waiting = worker.AcquireAsync(SemaphoreScope.Request("first"), CancellationToken.None);
        await scope.WaitUntilQueuedAsync("first");

        object? unknown = await scope.Admin.GetLimitAsync();
        Assert.Null(unknown);
        Assert.Empty(await scope.Admin.GetHoldersAsync()); // listing reaps and admits: still nothing granted
        Assert.Equal("first", Assert.Single(await scope.Admin.GetWaitersAsync()).HolderId);
        Assert.False(waiting.IsCompleted);

        await scope.Admin.SetLimitAsync(1);
        await using var lease = await waiting.WaitAsync(SemaphoreScope.Patience);
        Assert.Equal("first", Assert.Single(await scope.Admin.GetHoldersAsync()).HolderId);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => scope.Admin.SetLimitAsync(-1));
    }
}
