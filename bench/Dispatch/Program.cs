using BuildFarm.Bench;
// Measures how fast the Scheduler fills a freed build slot, on the real servers, and writes bench/results/dispatch.md.
// usage: dotnet run -c Release --project bench/Dispatch -- [--builds N] [--warmup N] [--timeout SECONDS]
//        [--only handoff|handoff-immediate|throughput] [--monitor-interval hh:mm:ss] [--out FILE]
// The servers come from BUILDFARM_TEST_POSTGRES, BUILDFARM_TEST_RABBITMQ and BUILDFARM_TEST_RABBITMQ_MANAGEMENT.
using System.Diagnostics;
using System.Globalization;
using BuildFarm.Dispatch.Bench;
using BuildFarm.Testing;

var builds = 300;
var warmup = 30;
var timeout = TimeSpan.FromSeconds(240);
var monitorInterval = "00:00:01";
string? only = null;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--builds": builds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--timeout": timeout = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
        case "--monitor-interval": monitorInterval = args[++i]; break;
        case "--only": only = args[++i]; break;
        case "--out": output = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
if (builds < warmup + 2)
{
    Console.Error.WriteLine("--builds must exceed --warmup by at least 2");
    return 2;
}
foreach (var name in new[] { "BUILDFARM_TEST_POSTGRES", "BUILDFARM_TEST_RABBITMQ", "BUILDFARM_TEST_RABBITMQ_MANAGEMENT" })
{
    if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name)))
    {
        Console.Error.WriteLine($"{name} is not set: export the test servers' addresses (see scripts/servers.sh) first.");
        return 2;
    }
}
output ??= Path.Combine(Repository.Root, "bench", "results", "dispatch.md");

Scenario[] all =
[
    new("handoff", "1 server × 1 slot, finished once Building", 1, 1, builds, warmup, FinishWhen.OnBuildStarted, timeout),
    new("handoff-immediate", "1 server × 1 slot, finished on dispatch", 1, 1, builds, warmup, FinishWhen.OnDispatch, timeout),
    new("throughput", "4 servers × 4 slots, finished on dispatch", 4, 4, builds, warmup, FinishWhen.OnDispatch, timeout),
];
var scenarios = all.Where(s => only is null || s.Name == only).ToList();
if (scenarios.Count == 0)
{
    Console.Error.WriteLine($"no scenario named {only}: {string.Join(", ", all.Select(s => s.Name))}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var startedAt = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
var loadBefore = HostFacts.LoadAverage();
var schedulerDll = Path.Combine(Repository.Root, "services", "Scheduler", "bin", Repository.Configuration, "net10.0", "BuildFarm.Scheduler.dll");
var versions = $".NET {Environment.Version}, PostgreSQL {await Machine.PostgresVersionAsync()}, RabbitMQ {await Machine.RabbitMqVersionAsync()}, " +
    $"MassTransit {Machine.MassTransitVersion}, Npgsql {Machine.NpgsqlVersion}";
Console.WriteLine($"{versions}; load {loadBefore}");

var runs = new List<(ScenarioResult, Figures)>();
foreach (var scenario in scenarios)
{
    Console.WriteLine($"{scenario.Name}: {scenario.Title}, {scenario.Builds} builds");
    var result = await DispatchFarm.RunAsync(scenario, monitorInterval, Console.WriteLine, cancel.Token);
    var figures = Analysis.Of(result);
    runs.Add((result, figures));
    if (figures.HandOff is { } h)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  hand-off p50 {h.P50:0.0} ms, p95 {h.P95:0.0} ms, p99 {h.P99:0.0} ms, max {h.Max:0.0} ms over {h.Count}; {figures.BuildsPerSecond:0.0} builds/s"));
    }
}

var facts = new RunFacts(
    startedAt,
    clock.Elapsed,
    "dotnet run -c " + Repository.Configuration + " --project bench/Dispatch" + (args.Length > 0 ? " -- " + string.Join(' ', args) : ""),
    loadBefore,
    HostFacts.LoadAverage(),
    versions,
    $"{Repository.Configuration} build ({schedulerDll[(Repository.Root.Length + 1)..]}, written {File.GetLastWriteTimeUtc(schedulerDll):yyyy-MM-dd HH:mm} UTC)",
    monitorInterval);
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
await File.WriteAllTextAsync(output, Report.Markdown(facts, runs));
Console.WriteLine($"wrote {output}");
return runs.Any(r => r.Item1.TimedOut || r.Item1.Completed < r.Item1.Scenario.Builds) ? 1 : 0;
