// Measures the farm semaphore against a real Redis and writes bench/results/semaphore.md.
// usage: dotnet run -c Release --project bench/Semaphore -- [REDIS] [--handoffs N] [--seconds S] [--out FILE]
// REDIS defaults to $BUILDFARM_TEST_REDIS.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BuildFarm.Semaphore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

var redisAddress = Environment.GetEnvironmentVariable("BUILDFARM_TEST_REDIS");
var handoffs = 1000;
var seconds = 5;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--handoffs": handoffs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": output = args[++i]; break;
        default: redisAddress = args[i]; break;
    }
}
if (string.IsNullOrWhiteSpace(redisAddress))
{
    Console.Error.WriteLine("Give the Redis address as an argument or in BUILDFARM_TEST_REDIS.");
    return 2;
}
output ??= Path.Combine(FindRepositoryRoot(), "bench", "results", "semaphore.md");

var loadBefore = LoadAverage();
var prefix = $"bench:semaphore:{Guid.NewGuid():N}";
var connections = new List<ConnectionMultiplexer>();
var semaphores = new List<RedisFarmSemaphore>();
async Task<RedisFarmSemaphore> ProcessAsync()
{
    // One connection and one semaphore per simulated worker process, as in the farm.
    var redis = await ConnectionMultiplexer.ConnectAsync(redisAddress);
    connections.Add(redis);
    var semaphore = new RedisFarmSemaphore(redis, Options.Create(new FarmSemaphoreOptions { KeyPrefix = prefix }));
    semaphores.Add(semaphore);
    return semaphore;
}

var a = await ProcessAsync();
var b = await ProcessAsync();
var redisVersion = connections[0].GetServers()[0].Version.ToString();
var admin = new RedisFarmSemaphoreAdmin(connections[0], Options.Create(new FarmSemaphoreOptions { KeyPrefix = prefix }));

// 1. Hand-off: A holds the only slot, B waits (its entry is in the queue); time from A's release to B's lease.
await admin.SetLimitAsync(1);
var holder = await a.AcquireAsync(Request("handoff-0"), CancellationToken.None);
var next = b;
var handoffMs = new List<double>(handoffs);
const int warmup = 100;
for (var i = 1; i <= handoffs + warmup; i++)
{
    var id = $"handoff-{i}";
    var waiting = next.AcquireAsync(Request(id), CancellationToken.None);
    while ((await admin.GetWaitersAsync()).Count == 0)
    {
    }
    var started = Stopwatch.GetTimestamp();
    await holder.DisposeAsync();
    holder = await waiting;
    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    if (i > warmup)
    {
        handoffMs.Add(elapsed);
    }
    next = next == a ? b : a;
}
await holder.DisposeAsync();

// 2. Uncontended acquire + release (a free slot), one caller.
var uncontendedMs = new List<double>(handoffs);
for (var i = 0; i < handoffs + warmup; i++)
{
    var started = Stopwatch.GetTimestamp();
    await using (await a.AcquireAsync(Request($"solo-{i}"), CancellationToken.None))
    {
    }
    if (i >= warmup)
    {
        uncontendedMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

// 3. Throughput: limit 4, contenders spread over 4 processes, each acquiring and releasing in a loop.
var processes = new[] { a, b, await ProcessAsync(), await ProcessAsync() };
await admin.SetLimitAsync(4);
var throughput = new List<(int Contenders, long Cycles, double Seconds, int MostInside)>();
foreach (var contenders in new[] { 4, 16, 64 })
{
    var cycles = 0L;
    var inside = 0;
    var mostInside = 0;
    var stopAt = Stopwatch.GetTimestamp() + seconds * Stopwatch.Frequency;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, contenders).Select(c => Task.Run(async () =>
    {
        var n = 0;
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            await using (await processes[c % processes.Length].AcquireAsync(Request($"t{contenders}-{c}-{n++}"), CancellationToken.None))
            {
                var now = Interlocked.Increment(ref inside);
                int seen;
                while ((seen = Volatile.Read(ref mostInside)) < now && Interlocked.CompareExchange(ref mostInside, now, seen) != seen)
                {
                }
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
            Interlocked.Increment(ref cycles);
        }
    })));
    throughput.Add((contenders, cycles, clock.Elapsed.TotalSeconds, mostInside));
}

foreach (var semaphore in semaphores)
{
    await semaphore.DisposeAsync();
}
await connections[0].GetDatabase().KeyDeleteAsync(
    new[] { "limit", "holders", "holder-info", "waiters", "waiter-expiry", "waiter-info", "sequence", "fence" }
        .Select(k => (RedisKey)("{" + prefix + "}:" + k)).ToArray());
foreach (var connection in connections)
{
    await connection.DisposeAsync();
}

var report = new StringBuilder();
report.AppendLine("# Build-slot semaphore benchmark");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/Semaphore` (`dotnet run -c Release --project bench/Semaphore`).");
report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; Redis {redisVersion} on loopback ({redisAddress}), shared with the other test servers.");
report.AppendLine(CultureInfo.InvariantCulture, $"Load average (1/5/15 min) at the start: {loadBefore}; at the end: {LoadAverage()}; the 2 cores were shared with other builds, so the tails are noisy.");
report.AppendLine("Each simulated worker process has its own connection and `RedisFarmSemaphore` (one pub/sub subscription each); lease TTL 60 s.");
report.AppendLine();
report.AppendLine("## Hand-off latency");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Limit 1. Process A holds the slot, process B waits in the queue; measured from the start of A's release (`DisposeAsync`) to B holding its lease (release script → pub/sub grant → claim script). {handoffs:N0} hand-offs after {warmup} warm-up, alternating A and B.");
report.AppendLine();
report.AppendLine("| | p50 | p95 | p99 | max |");
report.AppendLine("| --- | ---: | ---: | ---: | ---: |");
report.AppendLine(Row("hand-off (release → next waiter's grant)", handoffMs));
report.AppendLine(Row("uncontended acquire + release", uncontendedMs));
report.AppendLine();
report.AppendLine("## Acquire/release throughput");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Limit 4; contenders spread over 4 processes, each loops acquire → yield once → release for {seconds} s. The last column counts holders inside the critical section at once (must never exceed 4).");
report.AppendLine();
report.AppendLine("| contenders | grants | grants/s | most holders seen at once |");
report.AppendLine("| ---: | ---: | ---: | ---: |");
foreach (var (contenders, cycles, secs, most) in throughput)
{
    report.AppendLine(CultureInfo.InvariantCulture, $"| {contenders} | {cycles:N0} | {cycles / secs:N0} | {most} |");
}
report.AppendLine();
report.AppendLine("No waiter polls: a waiter is woken by the pub/sub message of the script that granted it the slot,");
report.AppendLine("so the hand-off costs two script round trips plus one pub/sub delivery, whatever the queue length.");

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, report.ToString());
Console.Write(report);
Console.WriteLine($"written to {output}");
return 0;

static SlotRequest Request(string id) => new(id, "bench", 1, TimeSpan.FromSeconds(300));

static string Row(string name, List<double> samples)
{
    samples.Sort();
    double P(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
    return string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {P(0.50):0.000} ms | {P(0.95):0.000} ms | {P(0.99):0.000} ms | {samples[^1]:0.000} ms |");
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "BuildFarm.sln")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}
