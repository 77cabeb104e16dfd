using System.Globalization;
using BuildFarm.Bench;
using BuildFarm.Farm.Bench;
using BuildFarm.Testing;

// ./farm bench: issue 10's six scenarios on servers and a farm of the run's own, each run R times; medians and spread
// in bench.json, a line in bench/results/README.md. Exit code: 0 every scenario produced its figures and nothing
// accepted was lost, 1 otherwise, 2 bad command line.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message == "usage" ? "" : "bench: " + ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var farmHome = Environment.GetEnvironmentVariable("BUILDFARM_HOME") is { Length: > 0 } home ? home : Path.Combine(Repository.Root, ".farm");
var runId = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var runDirectory = Path.Combine(farmHome, "bench", runId);
Directory.CreateDirectory(runDirectory);
Environment.SetEnvironmentVariable("BUILDFARM_TEST_SERVICE_LOGS", Path.Combine(runDirectory, "logs"));
// Servers' data, workspaces, artifacts and ledgers: where the postgres and build users can reach them.
var temp = Path.Combine(Path.GetTempPath(), "bf-bench-" + runId);
Directory.CreateDirectory(temp);
File.SetUnixFileMode(temp, (UnixFileMode)0b111_101_101);
var clock = System.Diagnostics.Stopwatch.StartNew();
void Say(string text) => Console.WriteLine($"[bench {DateTimeOffset.UtcNow:HH:mm:ss} +{clock.Elapsed.TotalSeconds,5:0}s] {text}");

var report = new BenchReport
{
    Run = runId,
    StartedAt = DateTimeOffset.UtcNow,
    Command = "./farm bench " + string.Join(' ', args),
    Commit = BenchReport.GitCommit(Repository.Root),
    Machine = new()
    {
        ["cpu"] = HostFacts.Cpu(),
        ["memory"] = HostFacts.Memory(),
        ["os"] = HostFacts.Os(),
        ["dotnet"] = Environment.Version.ToString(),
        ["loadAverageAtStart"] = HostFacts.LoadAverage(),
    },
    Options = new()
    {
        ["kind"] = options.Kind, ["runs"] = options.Runs, ["postgresFsync"] = options.Fsync,
        ["rawMessages"] = options.RawMessages, ["rawRoundTrips"] = options.RawRoundTrips,
        ["idleBuilds"] = options.IdleBuilds, ["idleRatePerSecond"] = options.IdleRate, ["handOffBuilds"] = options.HandOffBuilds,
        ["throughputBuilds"] = options.ThroughputBuilds, ["massSubmissions"] = options.MassSubmissions, ["massClients"] = options.MassClients,
        ["massQueue"] = options.MassQueue, ["massProbes"] = options.MassProbes, ["massRequests"] = options.MassRequests, ["logBytes"] = options.LogBytes,
        ["services"] = $"Release build ({Repository.Configuration}), separate processes, logging at Warning; builds in bench/Farm/noop-mock",
    },
};

// The management statistics (scenario 4's message counts) every second instead of every 5 s.
var servers = new FarmServers(Path.Combine(temp, "servers"), "bench", options.Fsync, "collect_statistics_interval = 1000");
Say($"run {runId}: scenarios {string.Join(',', options.Scenarios.Order())}, {options.Runs} run(s) each{(options.Quick ? " (quick)" : "")}; " +
    $"PostgreSQL :{servers.PgPort} (fsync {(options.Fsync ? "on" : "off")}), Redis :{servers.RedisPort}, RabbitMQ :{servers.AmqpPort}; logs in {runDirectory}");
var scenarios = new (int Number, string Name, string What)[]
{
    (1, "raw-rabbitmq", "RabbitMQ.Client alone: persistent 1 KB messages, publisher confirms, one durable queue"),
    (2, "idle-dispatch", "submit (HTTP) → build process started, at a steady rate below capacity"),
    (3, "slot-hand-off", "farm-wide limit 1: one build process's end → the next one's start"),
    (4, "throughput", "builds that do nothing, submitted at once by 32 clients; limit 20, two Workers of 20 slots"),
    (5, "mass-rebuild", "submissions from 32 clients for an architecture no server has, then a full queue: status, list, dispatch, memory"),
    (6, "log", "one build printing a large log: lines stored per second, a follower's lag, Worker peak memory"),
};
try
{
    await servers.StartAllAsync();
    Environment.SetEnvironmentVariable("BUILDFARM_TEST_RABBITMQ", servers.RabbitMq.ToString());
    Environment.SetEnvironmentVariable("BUILDFARM_TEST_RABBITMQ_MANAGEMENT", servers.Management.ToString());
    Say("servers ready");
    await using var farms = new FarmScenarios(options, servers, temp, Say);
    // Scenario 5 last: it stops the shared farm and starts its own for each run.
    foreach (var (number, name, what) in scenarios.Where(s => options.Scenarios.Contains(s.Number)).OrderBy(s => s.Number == 5 ? 7 : s.Number))
    {
        var scenario = new ScenarioReport { Number = number, Name = name, What = what };
        report.Scenarios.Add(scenario);
        for (var run = 1; run <= options.Runs; run++)
        {
            Say($"scenario {number} ({name}), run {run} of {options.Runs}; load {HostFacts.LoadAverage()}");
            try
            {
                var figures = number switch
                {
                    1 => await RawBroker.RunAsync(options.RawMessages, options.RawRoundTrips),
                    2 => await farms.IdleDispatchAsync(),
                    3 => await farms.SlotHandOffAsync(),
                    4 => await farms.ThroughputAsync(),
                    5 => await farms.MassRebuildAsync(),
                    _ => await farms.LogFloodAsync(),
                };
                figures["loadAverage1m"] = double.Parse(HostFacts.LoadAverage().Split(' ')[0], CultureInfo.InvariantCulture);
                scenario.Runs.Add(figures);
                Say($"  {string.Join(", ", figures.Select(f => $"{f.Key} {f.Value.ToString(CultureInfo.InvariantCulture)}"))}");
            }
            catch (Exception ex)
            {
                scenario.Errors.Add($"run {run}: {ex}");
                Say($"  scenario {number} run {run} failed: {ex.Message}");
            }
        }
        scenario.Summarise();
    }
}
catch (Exception ex)
{
    Say("the run failed: " + ex);
    report.Scenarios.Add(new ScenarioReport { Number = 0, Name = "setup", What = "servers and farms", Errors = { ex.ToString() } });
}
finally
{
    report.Machine["loadAverageAtEnd"] = HostFacts.LoadAverage();
    try
    {
        await servers.StopAllAsync();
    }
    catch (Exception ex)
    {
        Say("stopping the servers: " + ex.Message);
    }
    if (!options.Keep)
    {
        try
        {
            Directory.Delete(temp, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Say($"could not remove {temp}: {ex.Message}");
        }
    }
}

report.FinishedAt = DateTimeOffset.UtcNow;
report.Scenarios.Sort((a, b) => a.Number.CompareTo(b.Number));
report.Judge();
var runFile = Path.Combine(runDirectory, "bench.json");
report.Write(runFile);
var results = Path.Combine(Repository.Root, "bench", "results");
var outFile = options.Out ?? (options.Recording ? Path.Combine(results, "bench.json") : null);
if (outFile is not null)
{
    report.Write(outFile);
}
var line = report.ReadmeLine(options.Kind, options.Runs);
if (options.Recording)
{
    BenchReport.AppendToReadme(Path.Combine(results, "README.md"), line);
}

Console.WriteLine();
Console.WriteLine($"Bench run {runId} at {report.Commit} ({clock.Elapsed.TotalSeconds:0} s; load {report.Machine["loadAverageAtStart"]} → {report.Machine["loadAverageAtEnd"]})");
foreach (var s in report.Scenarios)
{
    Console.WriteLine($"  {s.Number} {s.Name}: {s.Runs.Count} run(s){(s.Errors.Count > 0 ? $", {s.Errors.Count} failed: {s.Errors[0].Split('\n')[0]}" : "")}");
    foreach (var (key, spread) in s.Figures.Where(f => f.Key != "loadAverage1m"))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {key,-30} {spread.Median,12:0.##}  [{spread.Min:0.##} – {spread.Max:0.##}]"));
    }
}
Console.WriteLine("  targets:");
foreach (var t in report.Targets)
{
    Console.WriteLine($"    {(t.Holds == true ? "holds " : "missed")} {t.Target}: {t.Measured}");
}
Console.WriteLine($"  report: {runFile}{(outFile is null ? "" : " and " + outFile)}{(options.Recording ? "; a line added to bench/results/README.md" : "")}");
Console.WriteLine(report.Complete ? "bench: every scenario produced its figures, nothing lost" : $"bench: incomplete (lost {report.Lost})");
return report.Complete ? 0 : 1;
