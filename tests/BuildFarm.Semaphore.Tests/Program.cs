using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

/// <summary>
/// The helper process of the crash tests: <c>dotnet BuildFarm.Semaphore.Tests.dll MODE REDIS PREFIX HOLDER TTL_MS</c>.
/// <c>hold</c> takes a slot with a lease ttl of TTL_MS and prints "held TOKEN"; <c>wait</c> queues for a slot with
/// a waiter ttl of TTL_MS and prints "waiting" once its entry is in the queue. Both then run until killed.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 5 || args[0] is not ("hold" or "wait"))
        {
            await Console.Error.WriteLineAsync("usage: hold|wait REDIS PREFIX HOLDER TTL_MS");
            return 2;
        }
        var (mode, holderId, ttl) = (args[0], args[3], TimeSpan.FromMilliseconds(int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture)));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(args[1]);
        var options = new FarmSemaphoreOptions { KeyPrefix = args[2] };
        if (mode == "hold")
        {
            options.LeaseTtl = ttl;
        }
        else
        {
            options.WaiterTtl = ttl;
        }
        await using var semaphore = new RedisFarmSemaphore(redis, Options.Create(options));
        var request = new SlotRequest(holderId, "helper-" + Environment.ProcessId, 1, Timeout.InfiniteTimeSpan);
        if (mode == "hold")
        {
            await using var lease = await semaphore.AcquireAsync(request, CancellationToken.None);
            Console.WriteLine($"held {lease.FencingToken}");
            await Task.Delay(Timeout.Infinite, lease.Lost);
            return 1;
        }
        var waiting = semaphore.AcquireAsync(request, CancellationToken.None);
        var admin = new RedisFarmSemaphoreAdmin(redis, Options.Create(options));
        while (!(await admin.GetWaitersAsync()).Any(w => w.HolderId == holderId))
        {
            await Task.Delay(10);
        }
        Console.WriteLine("waiting");
        await using (await waiting)
        {
            return 1;
        }
    }
}
