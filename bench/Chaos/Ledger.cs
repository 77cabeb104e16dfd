using System.Text.Json;

namespace BuildFarm.Chaos;

/// <summary>What one attempt's mock runs wrote to the ledger: when it ran (CLOCK_MONOTONIC ns), where, how it ended.</summary>
internal sealed class LedgerAttempt(Guid build, int attempt, string server)
{
    public Guid Build { get; } = build;
    public int Attempt { get; } = attempt;
    public string Server { get; } = server;
    public long From { get; set; } = long.MaxValue;
    public long To { get; set; } = long.MinValue;
    public int Records { get; set; }

    /// <summary>Both phases (buildsrpm, rebuild) wrote their end record: the attempt's mock runs ended by themselves.</summary>
    public bool SourcePhaseEnded { get; set; }
    public int? RebuildExit { get; set; }

    /// <summary>Numbered log lines the rebuild phase printed (from its end record; null when it never ended).</summary>
    public int? LinesPrinted { get; set; }

    public bool RanToTheEnd => RebuildExit is not null;
}

/// <summary>The ledger the stand-in mock appends to (tests/mock/mock, CHAOS_LEDGER), read back and checked.</summary>
internal sealed class Ledger
{
    public Dictionary<(Guid, int), LedgerAttempt> Attempts { get; } = [];
    public int Records { get; private set; }
    public int Unreadable { get; private set; }

    public static Ledger Read(string path)
    {
        var ledger = new Ledger();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                using var document = JsonDocument.Parse(line);
                var r = document.RootElement;
                var key = (Guid.Parse(r.GetProperty("build").GetString()!), r.GetProperty("attempt").GetInt32());
                if (!ledger.Attempts.TryGetValue(key, out var attempt))
                {
                    attempt = new LedgerAttempt(key.Item1, key.Item2, r.GetProperty("server").GetString() ?? "");
                    ledger.Attempts.Add(key, attempt);
                }
                var t = r.GetProperty("t").GetInt64();
                attempt.From = Math.Min(attempt.From, t);
                attempt.To = Math.Max(attempt.To, t);
                attempt.Records++;
                if (r.GetProperty("ev").GetString() == "end")
                {
                    if (r.GetProperty("phase").GetString() == "rebuild")
                    {
                        attempt.RebuildExit = r.GetProperty("exit").GetInt32();
                        attempt.LinesPrinted = r.GetProperty("lines").GetInt32();
                    }
                    else
                    {
                        attempt.SourcePhaseEnded = true;
                    }
                }
                ledger.Records++;
            }
            catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                // A torn last line (a mock killed mid-write) is not a record.
                ledger.Unreadable++;
            }
        }
        return ledger;
    }

    /// <summary>An episode in which more attempts ran at once than allowed.</summary>
    internal sealed record Overrun(long From, long To, int Peak, IReadOnlyList<LedgerAttempt> Running);

    /// <summary>
    /// Sweeps the attempts' intervals (first to last record; a killed mock's ends at its last tick, so an overrun is
    /// never invented, only possibly missed by up to 0.2 s) and returns the peak and every episode above <paramref name="limit"/>.
    /// </summary>
    public static (int Peak, IReadOnlyList<Overrun> Overruns) Sweep(IEnumerable<LedgerAttempt> attempts, int limit)
    {
        var events = new List<(long T, int Delta, LedgerAttempt A)>();
        foreach (var a in attempts)
        {
            events.Add((a.From, +1, a));
            events.Add((a.To, -1, a));
        }
        // At one instant ends come before starts: touching intervals do not overlap.
        events.Sort((x, y) => x.T != y.T ? x.T.CompareTo(y.T) : x.Delta.CompareTo(y.Delta));
        var running = new HashSet<LedgerAttempt>();
        var overruns = new List<Overrun>();
        int peak = 0, episodePeak = 0;
        long episodeFrom = 0;
        var episodeRunning = new HashSet<LedgerAttempt>();
        foreach (var (t, delta, a) in events)
        {
            var before = running.Count;
            if (delta > 0)
            {
                running.Add(a);
            }
            else
            {
                running.Remove(a);
            }
            peak = Math.Max(peak, running.Count);
            if (running.Count > limit)
            {
                if (before <= limit)
                {
                    episodeFrom = t;
                    episodePeak = 0;
                    episodeRunning.Clear();
                }
                episodePeak = Math.Max(episodePeak, running.Count);
                episodeRunning.UnionWith(running);
            }
            else if (before > limit)
            {
                overruns.Add(new Overrun(episodeFrom, t, episodePeak, [.. episodeRunning]));
            }
        }
        return (peak, overruns);
    }
}
