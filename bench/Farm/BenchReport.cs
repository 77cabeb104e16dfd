using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildFarm.Farm.Bench;

/// <summary>The median and spread of one figure over a scenario's runs.</summary>
internal sealed record Spread(double Median, double Min, double Max, int Runs);

/// <summary>One scenario's runs, their figures summarised, and what went wrong.</summary>
internal sealed class ScenarioReport
{
    public required int Number { get; init; }
    public required string Name { get; init; }
    public required string What { get; init; }
    public List<Dictionary<string, double>> Runs { get; } = [];
    public List<string> Errors { get; } = [];
    public Dictionary<string, Spread> Figures { get; private set; } = [];

    public void Summarise() => Figures = Runs.SelectMany(r => r.Keys).Distinct().ToDictionary(k => k, k =>
    {
        var values = Runs.Where(r => r.TryGetValue(k, out var v) && !double.IsNaN(v)).Select(r => r[k]).Order().ToList();
        return values.Count == 0
            ? new Spread(double.NaN, double.NaN, double.NaN, 0)
            : new Spread(values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2, values[0], values[^1], values.Count);
    });

    public double Median(string figure) => Figures.TryGetValue(figure, out var s) ? s.Median : double.NaN;
}

/// <summary>One target of issue 10, judged on the medians of this run.</summary>
internal sealed record TargetCheck(string Target, string Measured, bool? Holds);

/// <summary>bench.json: the run (date, machine, commit, load, options), every scenario and the targets.</summary>
internal sealed class BenchReport
{
    public string Run { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; set; }
    public string Command { get; init; } = "";
    public Dictionary<string, string> Machine { get; init; } = [];
    public string Commit { get; init; } = "";
    public Dictionary<string, object> Options { get; init; } = [];
    public List<ScenarioReport> Scenarios { get; } = [];
    public List<TargetCheck> Targets { get; private set; } = [];

    /// <summary>Every scenario ran at least once with no error, and nothing accepted was lost.</summary>
    public bool Complete => Scenarios.All(s => s.Errors.Count == 0 && s.Runs.Count > 0) && Lost == 0;

    public double Lost => Scenarios.SelectMany(s => s.Runs).Sum(r => r.GetValueOrDefault("lost"));

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void Write(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllText(file, JsonSerializer.Serialize(new
        {
            Run, StartedAt, FinishedAt, Command, Machine, Commit, Options, Complete, Lost,
            Targets, Scenarios,
        }, Json) + "\n");
    }

    /// <summary>Issue 10's targets, each judged where its scenarios ran (never asserted anywhere).</summary>
    public void Judge()
    {
        ScenarioReport? S(int n) => Scenarios.FirstOrDefault(s => s.Number == n && s.Runs.Count > 0);
        var checks = new List<TargetCheck>();
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString(v >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);
        if (S(1) is { } raw && S(2) is { } idle)
        {
            double r50 = raw.Median("roundTripMsP50"), r99 = raw.Median("roundTripMsP99"), i50 = idle.Median("submitToStartMsP50"), i99 = idle.Median("submitToStartMsP99");
            checks.Add(new("idle dispatch p50 ≤ 3× raw round trip p50", $"{F(i50)} ms vs 3 × {F(r50)} ms", i50 <= 3 * r50));
            checks.Add(new("idle dispatch p99 ≤ 10× raw round trip p99", $"{F(i99)} ms vs 10 × {F(r99)} ms", i99 <= 10 * r99));
        }
        if (S(3) is { } handOff)
        {
            var h = handOff.Median("handOffMsP50");
            checks.Add(new("slot hand-off p50 ≤ 10 ms", $"{F(h)} ms", h <= 10));
        }
        if (S(4) is { } throughput)
        {
            var t = throughput.Median("buildsPerSecond");
            checks.Add(new("throughput ≥ 500 builds/s", $"{F(t)} builds/s ({F(throughput.Median("builds"))} builds)", t >= 500));
        }
        if (S(5) is { } mass)
        {
            var a = mass.Median("acceptedPerSecond");
            checks.Add(new("≥ 1,000 submissions/s accepted", $"{F(a)}/s ({F(mass.Median("accepted"))} submissions)", a >= 1000));
            var queued = F(mass.Median("queued"));
            var s99 = mass.Median("statusMsP99");
            checks.Add(new("status p99 ≤ 20 ms at 100,000 queued", $"{F(s99)} ms at {queued} queued", s99 <= 20));
            double l99 = mass.Median("listMsP99"), f99 = mass.Median("listBySubmitterMsP99");
            checks.Add(new("list p99 ≤ 50 ms at 100,000 queued", $"{F(l99)} ms, by submitter {F(f99)} ms, at {queued} queued", Math.Max(l99, f99) <= 50));
            var ratio = mass.Median("passFullOverEmpty");
            checks.Add(new("dispatch pass within 2× of the empty queue's",
                $"pass mean {F(mass.Median("passFullQueueMeanMs"))} ms vs {F(mass.Median("passEmptyQueueMeanMs"))} ms empty ({F(ratio)}×); " +
                $"a probe's submit→start p50 {F(mass.Median("probeFullQueueMsP50"))} ms vs {F(mass.Median("probeEmptyQueueMsP50"))} ms", ratio <= 2));
        }
        if (S(6) is { } logs)
        {
            var m = logs.Median("workerPeakRssMb");
            checks.Add(new("log: Worker peak memory ≤ 200 MB", $"{F(m)} MB for {F(logs.Median("logBytes") / 1e6)} MB of log", m <= 200));
            var lag = logs.Median("followerLagMsP99");
            checks.Add(new("log: follower lag ≤ 1 s (p99)", $"p99 {F(lag)} ms, max {F(logs.Median("followerLagMsMax"))} ms", lag <= 1000));
        }
        Targets = checks;
    }

    /// <summary>The line of bench/results/README.md's table for this run.</summary>
    public string ReadmeLine(string kind, int runs)
    {
        string M(int n, string figure, string format = "0.#")
        {
            var s = Scenarios.FirstOrDefault(x => x.Number == n);
            return s is null || s.Runs.Count == 0 ? "–" : s.Median(figure).ToString(format, CultureInfo.InvariantCulture);
        }
        var cells = new[]
        {
            StartedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Commit,
            $"{Machine["cpu"]}, {Machine["memory"]}",
            $"{Machine["loadAverageAtStart"]} → {Machine["loadAverageAtEnd"]}",
            $"{kind}, {runs} run{(runs == 1 ? "" : "s")}",
            $"{M(1, "messagesPerSecond", "0")}/s, {M(1, "roundTripMsP50", "0.##")}/{M(1, "roundTripMsP99", "0.##")} ms",
            $"{M(2, "submitToStartMsP50", "0")}/{M(2, "submitToStartMsP99", "0")} ms",
            $"{M(3, "handOffMsP50", "0")}/{M(3, "handOffMsP99", "0")} ms",
            $"{M(4, "buildsPerSecond")}/s of {M(4, "builds", "0")}; {M(4, "messagesPublishedPerBuild")} msg, {M(4, "pgTransactionsPerBuild")} xact ({M(4, "pgWriteTransactionsPerBuild")} writes)/build",
            $"{M(5, "acceptedPerSecond", "0")}/s of {M(5, "accepted", "0")}; at {M(5, "queued", "0")}: status p99 {M(5, "statusMsP99", "0")} ms, list p99 {M(5, "listMsP99", "0")}/{M(5, "listBySubmitterMsP99", "0")} ms, pass {M(5, "passFullQueueMeanMs", "0.#")} vs {M(5, "passEmptyQueueMeanMs", "0.#")} ms, RSS {M(5, "schedulerRssPeakMb", "0")} MB",
            $"{M(6, "linesStoredPerSecond", "0")} lines/s, lag p99 {M(6, "followerLagMsP99", "0")} ms, RSS {M(6, "workerPeakRssMb", "0")} MB ({M(6, "logBytes", "0")} B)",
            $"{Targets.Count(t => t.Holds == true)} of {Targets.Count}",
        };
        return "| " + string.Join(" | ", cells) + " |";
    }

    public static string GitCommit(string root)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
            foreach (var a in new[] { "describe", "--always", "--dirty", "--abbrev=10" })
            {
                start.ArgumentList.Add(a);
            }
            using var git = Process.Start(start)!;
            var text = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && text.Length > 0 ? text : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    /// <summary>Appends <paramref name="line"/> to the runs table that ends bench/results/README.md (the table is made when missing).</summary>
    public static void AppendToReadme(string file, string line)
    {
        const string marker = "<!-- ./farm bench appends one line per run below -->";
        if (!File.Exists(file) || !File.ReadAllText(file).Contains(marker, StringComparison.Ordinal))
        {
            var header = new StringBuilder()
                .AppendLine()
                .AppendLine("## `./farm bench` runs")
                .AppendLine()
                .AppendLine("Medians over the runs (p50/p99); the spread (min/max) of every figure is in `bench.json`. Load: the load averages (1, 5, 15 min) at the start → at the end.")
                .AppendLine()
                .AppendLine(marker)
                .AppendLine("| date | commit | machine | load | kind | 1 raw RabbitMQ | 2 idle dispatch | 3 slot hand-off | 4 throughput | 5 mass rebuild | 6 1 GB log | targets held |")
                .AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            File.AppendAllText(file, header.ToString());
        }
        File.AppendAllText(file, line + "\n");
    }
}
