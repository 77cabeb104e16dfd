using BuildFarm.Bench;
using System.Globalization;
using System.Text;

namespace BuildFarm.Dispatch.Bench;

/// <summary>Everything the Markdown report states besides the scenarios' own figures.</summary>
internal sealed record RunFacts(
    DateTimeOffset StartedAt,
    TimeSpan Elapsed,
    string CommandLine,
    string LoadBefore,
    string LoadAfter,
    string Versions,
    string SchedulerBuild,
    string MonitorInterval);

internal static class Report
{
    public static string Markdown(RunFacts facts, IReadOnlyList<(ScenarioResult Result, Figures Figures)> runs)
    {
        var s = new StringBuilder();
        s.AppendLine("# Dispatch hand-off benchmark");
        s.AppendLine();
        s.AppendLine(Inv($"Run {facts.StartedAt:yyyy-MM-dd HH:mm} UTC by `bench/Dispatch`, {facts.Elapsed.TotalMinutes:0.0} min: `{facts.CommandLine}`"));
        s.AppendLine(Inv($"(`dotnet run` builds the Scheduler in the same configuration; the servers are read from the `BUILDFARM_TEST_*` variables)."));
        s.AppendLine();
        s.AppendLine(Inv($"Machine: {HostFacts.Cpu()}, {HostFacts.Os()}, shared with other engineers' builds and tests while it ran."));
        s.AppendLine(Inv($"Load average (1/5/15 min) at the start: {facts.LoadBefore}; at the end: {facts.LoadAfter} (per scenario below)."));
        s.AppendLine(Inv($"Versions: {facts.Versions}."));
        s.AppendLine(Inv($"Scheduler: {facts.SchedulerBuild}, one process, started as the tests start it (`dotnet BuildFarm.Scheduler.dll`, logging at Information)."));
        s.AppendLine();
        s.AppendLine("## Settings");
        s.AppendLine();
        s.AppendLine(Inv($"- Scheduler: `Scheduler__MonitorInterval={facts.MonitorInterval}` (the dispatcher's safety pass runs every 5 × that when nothing wakes it), everything else at its defaults;"));
        s.AppendLine("  the PostgreSQL outbox relay wakes on its own commits and on NOTIFY, safety poll 10 s (code default); saga endpoint concurrency 16.");
        s.AppendLine("- Farm settings, answered by the benchmark in place of the Settings service: farm-wide limit max(4, slots), queue limit 10,000, the rest at their defaults.");
        s.AppendLine(Inv($"- Fake build servers: heartbeat every {DispatchFarm.HeartbeatInterval.TotalSeconds:0} s (the Worker's default), x86_64 + rpmbuild, CPU/memory/disk 10 %."));
        s.AppendLine("  Every build is queued (state Queued in the database) before the first heartbeat; builds from 3 submitters, priority normal.");
        s.AppendLine();
        s.AppendLine("## What a hand-off is");
        s.AppendLine();
        s.AppendLine("""
            The clock starts just before the build server publishes `BuildRunFinished(Succeeded)` and stops when the next
            `DispatchBuild` arrives at the same server's queue. In between: RabbitMQ delivers `BuildRunFinished` to the saga
            endpoint; the saga loads the build's row, moves it to Completed and writes `BuildCompleted` to the outbox table in
            one PostgreSQL transaction (plus the inbox row); the commit pokes the dispatcher in-process (and wakes the relay,
            which sends `BuildCompleted` to whoever listens), whose loop wakes at once and runs a pass: under a PostgreSQL
            advisory lock it reads the servers, the occupied slots and the head of the queue, orders it, places the first build that fits and makes its saga transition (Queued → Dispatched) with
            `DispatchBuild` in the outbox, in one transaction; the relay sends `DispatchBuild` to `build-server-{id}`. That is
            two RabbitMQ hops, two PostgreSQL transactions with outbox rows, one relay send on the path and one dispatch pass, and no poll
            interval anywhere on the path (Koji's builders poll every 60 s, Copr's every 30 s). (Before issue 10 the dispatcher
            waited for `BuildCompleted` to come back from the broker, and the pass sent `AssignBuild`, which the saga, in a transaction
            of its own, turned into `DispatchBuild`: two hops, a transaction and two relay sends more.)
            """);
        s.AppendLine();
        s.AppendLine("## Hand-off latency");
        s.AppendLine();
        s.AppendLine("Time a freed slot stands empty, per hand-off after the warm-up (first hand-offs left out, see the Warm-up column).");
        s.AppendLine();
        s.AppendLine("| scenario | hand-offs | warm-up | p50 | p95 | p99 | max | mean |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (result, figures) in runs)
        {
            Row(s, result.Scenario.Title, result.Scenario.Warmup, figures.HandOff);
            if (figures.FinishToCompleted is not null)
            {
                Row(s, "  … of which: BuildRunFinished → BuildCompleted seen", result.Scenario.Warmup, figures.FinishToCompleted);
                Row(s, "  … of which: BuildCompleted seen → next DispatchBuild", result.Scenario.Warmup, figures.CompletedToDispatch);
            }
        }
        s.AppendLine();
        s.AppendLine("The parts are split where the benchmark's own queue receives a copy of `BuildCompleted`; the Scheduler receives the same");
        s.AppendLine("message from its own queue at about the same moment. So the two parts are roughly: the saga's Completed transition and its");
        s.AppendLine("relay; the dispatcher's wake-up, its pass (with the Dispatched transition) and the relay of `DispatchBuild`.");
        s.AppendLine("\"Finished once Building\" is the real case (a build runs for minutes, so its saga is in Building when it ends);");
        s.AppendLine("\"finished on dispatch\" sends BuildRunAccepted, BuildRunStarted and BuildRunFinished back to back, so the saga applies");
        s.AppendLine("the first two (and may retry on its version check) before the finish.");
        s.AppendLine("With 4 × 4 slots and builds that take no time, the Scheduler itself is the bottleneck: a freed slot waits its turn behind");
        s.AppendLine("the other freed slots, so its idle time is about slots ÷ builds/s, a throughput figure rather than a wake-up latency.");
        s.AppendLine();
        s.AppendLine("### By queue length");
        s.AppendLine();
        s.AppendLine("The same hand-offs in three consecutive parts, with how many builds were still queued when the slot was freed");
        s.AppendLine("(each dispatch pass reads and orders the whole queue).");
        s.AppendLine();
        s.AppendLine("| scenario | builds queued | hand-offs | p50 | p95 | max |");
        s.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var (result, figures) in runs)
        {
            foreach (var (most, least, d) in figures.ByQueueLength)
            {
                s.AppendLine(Inv($"| {result.Scenario.Title} | {most} → {least} | {d.Count} | {d.P50:0.0} ms | {d.P95:0.0} ms | {d.Max:0.0} ms |"));
            }
        }
        s.AppendLine();
        s.AppendLine("## Throughput");
        s.AppendLine();
        s.AppendLine("From the first DispatchBuild to the last BuildCompleted; \"after warm-up\" counts completions after the warm-up ones.");
        s.AppendLine();
        s.AppendLine("| scenario | servers × slots | builds completed | seconds | builds/s | builds/s after warm-up | Scheduler CPU per build | most builds on one server at once | load before → after |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var (result, figures) in runs)
        {
            var sc = result.Scenario;
            s.AppendLine(Inv($"| {sc.Title} | {sc.Servers} × {sc.Capacity} | {result.Completed} of {sc.Builds} | {figures.WallSeconds:0.0} | {figures.BuildsPerSecond:0.0} | {figures.SteadyBuildsPerSecond:0.0} | {figures.SchedulerCpuMsPerBuild:0.0} ms | {result.PeakByServer.Values.DefaultIfEmpty().Max()} (limit {sc.Capacity}) | {result.LoadBefore} → {result.LoadAfter} |"));
        }
        s.AppendLine();
        s.AppendLine("## Problems seen");
        s.AppendLine();
        var problems = runs.SelectMany(r => r.Result.Problems.Select(p => $"{r.Result.Scenario.Name}: {p}")
                .Concat(r.Result.Failed > 0 ? [$"{r.Result.Scenario.Name}: {r.Result.Failed} builds failed"] : [])
                .Concat(r.Result.DuplicateDispatches > 0 ? [$"{r.Result.Scenario.Name}: {r.Result.DuplicateDispatches} DispatchBuild delivered twice"] : []))
            .ToList();
        if (problems.Count == 0)
        {
            s.AppendLine("None: every build was dispatched once and completed, and no server ever held more builds than its slots.");
        }
        foreach (var problem in problems.Take(20))
        {
            s.AppendLine($"- {problem}");
        }
        return s.ToString();
    }

    private static void Row(StringBuilder s, string title, int warmup, Distribution? d) =>
        s.AppendLine(d is null
            ? $"| {title} | 0 | {warmup} | | | | | |"
            : Inv($"| {title} | {d.Count} | {warmup} | {d.P50:0.0} ms | {d.P95:0.0} ms | {d.P99:0.0} ms | {d.Max:0.0} ms | {d.Mean:0.0} ms |"));

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
