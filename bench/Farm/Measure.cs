using System.Diagnostics;
using System.Globalization;

namespace BuildFarm.Farm.Bench;

/// <summary>Percentiles (nearest rank) of a sample.</summary>
internal static class Percentiles
{
    public static double Of(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Adds NAME_p50, NAME_p99 and NAME_max (and NAME_count) of <paramref name="values"/> to <paramref name="figures"/>.</summary>
    public static void Add(Dictionary<string, double> figures, string name, IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        figures[name + "P50"] = Math.Round(Of(sorted, 50), 2);
        figures[name + "P99"] = Math.Round(Of(sorted, 99), 2);
        figures[name + "Max"] = Math.Round(sorted.Count == 0 ? double.NaN : sorted[^1], 2);
        figures[name + "Count"] = sorted.Count;
    }
}

/// <summary>Wall-clock now in Unix seconds, the clock the noop mock's ledger uses (bash's EPOCHREALTIME).</summary>
internal static class WallClock
{
    public static double Now => Of(DateTimeOffset.UtcNow);

    public static double Of(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / 1e7;
}

/// <summary>One build process's run, from the ledger the noop mock appends to.</summary>
internal sealed record LedgerBuild(Guid Build, int Attempt, double SourceStart, double? RebuildEnd);

/// <summary>The noop mock's ledger: "&lt;seconds&gt; &lt;phase&gt; start|end build-&lt;id&gt;-&lt;attempt&gt;" lines.</summary>
internal static class BuildLedger
{
    public static Dictionary<Guid, LedgerBuild> Read(string path)
    {
        var builds = new Dictionary<Guid, LedgerBuild>();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(file);
        while (reader.ReadLine() is { } line)
        {
            var f = line.Split(' ');
            // A line being written as it is read is incomplete: skip it (it is read complete the next time).
            if (f.Length != 4 || !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var t)
                || !f[3].StartsWith("build-", StringComparison.Ordinal) || f[3].Length < 6 + 36 + 2
                || !Guid.TryParse(f[3].AsSpan(6, 36), out var id) || !int.TryParse(f[3].AsSpan(43), CultureInfo.InvariantCulture, out var attempt))
            {
                continue;
            }
            builds.TryGetValue(id, out var seen);
            if (f[1] == "buildsrpm" && f[2] == "start")
            {
                // The first attempt's start counts (a retried build's later attempts keep it).
                builds[id] = seen is null ? new LedgerBuild(id, attempt, t, null) : seen;
            }
            else if (f[1] == "rebuild" && f[2] == "end" && seen is not null)
            {
                builds[id] = seen with { RebuildEnd = t };
            }
        }
        return builds;
    }

    /// <summary>Waits until every one of <paramref name="ids"/> has a ledger record that <paramref name="done"/> accepts.</summary>
    public static async Task<Dictionary<Guid, LedgerBuild>> AwaitAsync(string path, IReadOnlyCollection<Guid> ids, Func<LedgerBuild, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var ledger = Read(path);
            var missing = ids.Count(id => !ledger.TryGetValue(id, out var b) || !done(b));
            if (missing == 0)
            {
                return ledger;
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{missing} of {ids.Count} builds did not reach the ledger within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}

/// <summary>Samples a process's resident memory (VmRSS) from /proc until stopped; keeps the peak.</summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public RssSampler(IReadOnlyList<int> pids, TimeSpan every)
    {
        Peaks = new long[pids.Count];
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                for (var i = 0; i < pids.Count; i++)
                {
                    Peaks[i] = Math.Max(Peaks[i], Rss(pids[i]));
                }
                try
                {
                    await Task.Delay(every, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    /// <summary>The largest VmRSS seen of each process, in bytes.</summary>
    public long[] Peaks { get; }

    /// <summary>VmRSS of <paramref name="pid"/> in bytes (0 when it is gone).</summary>
    public static long Rss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>Stops sampling (once; a second call does nothing), so <see cref="Peaks"/> can be read.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private int _stopped;
}
