using System.Globalization;
using BuildFarm.Chaos;
using BuildFarm.Testing;

// ./farm chaos: a farm of its own under seeded faults; the invariants of issue 9 checked and reported.
// Exit code: 0 no violation, 1 violations (listed), 2 the run itself could not be made (see the report's "error").
ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message == "usage" ? "" : "chaos: " + ex.Message);
    Console.Error.WriteLine("usage: ./farm chaos [--builds N] [--minutes M] [--seed S] [--short] [--keep] [--out FILE]");
    return 2;
}

var farmHome = Environment.GetEnvironmentVariable("BUILDFARM_HOME") is { Length: > 0 } home ? home : Path.Combine(Repository.Root, ".farm");
var runId = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{options.Seed}");
var runDirectory = Path.Combine(farmHome, "chaos", runId);
Directory.CreateDirectory(runDirectory);
// Every service's whole output, one file per process (ServiceProcess reads this variable).
Environment.SetEnvironmentVariable("BUILDFARM_TEST_SERVICE_LOGS", Path.Combine(runDirectory, "logs"));
// Servers' data, workspaces, mock roots, artifacts and the ledger: where the postgres and build users can reach them.
var temp = Path.Combine(Path.GetTempPath(), "bf-chaos-" + runId);
Directory.CreateDirectory(temp);
File.SetUnixFileMode(temp, (UnixFileMode)0b111_101_101);

var run = new ChaosRun(options, runDirectory, temp);
var code = await run.RunAsync();
var report = run.Report;
var reportFile = Path.Combine(runDirectory, "report.json");
report.Write(reportFile);
var outFile = options.Out ?? (options.Short ? null : Path.Combine(Repository.Root, "bench", "results", "chaos.json"));
if (outFile is not null)
{
    report.Write(outFile);
}

Console.WriteLine();
Console.WriteLine($"Chaos run {report.Run} (seed {report.Seed}, {(report.Short ? "short" : "long")}): {report.Durations.GetValueOrDefault("totalSeconds"):0} s in all");
Console.WriteLine($"  builds: {string.Join(", ", report.Builds.Select(b => $"{b.Key} {b.Value}"))}");
Console.WriteLine($"  faults: {string.Join(", ", report.Faults.Select(f => $"{f.Key} {f.Value}"))}");
foreach (var f in report.FaultLog)
{
    Console.WriteLine($"    +{f.ElapsedSeconds,6:0.0}s {f.Kind,-7} {f.Target,-12} {f.Detail}{(f.DownSeconds is { } d ? $", down {d:0.0} s" : "")}{(f.BackAfterSeconds is { } b ? $", back after {b:0.0} s" : "")}");
}
if (report.Concurrency.TryGetValue("peakRunning", out var peaks))
{
    Console.WriteLine($"  peak running at once (from the builds' own records): {string.Join(", ", ((Dictionary<string, int>)peaks).Select(p => $"{p.Key} {p.Value}"))}");
}
Console.WriteLine($"  durations: {string.Join(", ", report.Durations.Select(d => $"{d.Key} {d.Value}"))}");
Console.WriteLine("  invariants:");
foreach (var c in report.Checks)
{
    Console.WriteLine($"    {(c.Violations == 0 ? "ok  " : "FAIL")} {c.Invariant,-20} {c.Violations} violations in {c.Checked} checked: {c.What}");
}
foreach (var group in report.Violations.GroupBy(v => v.Invariant))
{
    Console.WriteLine($"  {group.Key} ({report.ViolationsByInvariant[group.Key]}):");
    foreach (var v in group.Take(10))
    {
        Console.WriteLine($"    - {v.Detail}");
    }
}
if (report.Notes.Count > 0)
{
    Console.WriteLine($"  notes ({report.Notes.Count}):");
    foreach (var note in report.Notes.Take(15))
    {
        Console.WriteLine($"    - {note}");
    }
}
if (report.Error is not null)
{
    Console.WriteLine("  the run could not be completed: " + report.Error.Split('\n')[0]);
}
Console.WriteLine($"  report: {reportFile}{(outFile is null ? "" : " and " + outFile)}; service logs: {Path.Combine(runDirectory, "logs")}");
Console.WriteLine(code switch
{
    0 => "chaos: no invariant violated",
    1 => $"chaos: {report.ViolationCount} violations",
    _ => "chaos: the run failed",
});
return code;
