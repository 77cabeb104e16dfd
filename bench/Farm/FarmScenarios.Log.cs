using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Farm.Bench;

/// <summary>Scenario 6: one build printing a large log, followed live.</summary>
internal sealed partial class FarmScenarios
{

    public async Task<Dictionary<string, double>> LogFloodAsync()
    {
        var farm = await SharedAsync();
        var user = User("log");
        using var http = farm.Client(user, FarmRoles.Submitter);
        using var follower = farm.Client(user, FarmRoles.Viewer);
        follower.Timeout = Timeout.InfiniteTimeSpan;
        await using var memory = new RssSampler([.. farm.Workers.Select(w => w.Pid)], TimeSpan.FromMilliseconds(100));
        var (id, error) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(LogSpec));
        if (id is not { } build)
        {
            throw new InvalidOperationException("the log build was refused: " + error);
        }
        var expected = (long)Math.Ceiling(options.LogBytes / 100.0);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(options.LogBytes / 1_000_000.0));
        using var response = await follower.GetAsync(new Uri(farm.SubmissionUrl, $"/api/v1/builds/{build}/logs/follow?stream=stdout"),
            HttpCompletionOption.ResponseHeadersRead, stop.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
        var lags = new List<double>();
        long lines = 0, highest = 0, previous = 0, gaps = 0, backwards = 0;
        long firstPrinted = long.MaxValue, lastReceived = 0;
        var ended = false;
        // A batch may end inside a line: its rest starts the next batch of the stream, so a line is read across events.
        var carry = "";
        while (await reader.ReadLineAsync(stop.Token) is { } line)
        {
            if (line == "event: end")
            {
                ended = true;
                break;
            }
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            var received = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
            using var document = JsonDocument.Parse(line.AsMemory(6));
            if (!document.RootElement.TryGetProperty("text", out var text))
            {
                continue;
            }
            var parts = (carry + text.GetString()).Split('\n');
            carry = parts[^1];
            foreach (var printed in parts[..^1])
            {
                // "bench-log SEQ(10) TIME_NS(19) xxx"
                if (printed.Length < 40 || !printed.StartsWith("bench-log ", StringComparison.Ordinal)
                    || !long.TryParse(printed.AsSpan(10, 10), CultureInfo.InvariantCulture, out var seq)
                    || !long.TryParse(printed.AsSpan(21, 19), CultureInfo.InvariantCulture, out var at))
                {
                    continue;
                }
                lines++;
                // A jump forward is lines the follower skipped; a step back, lines sent out of order.
                gaps += seq > previous + 1 ? 1 : 0;
                backwards += seq <= previous ? 1 : 0;
                previous = seq;
                highest = Math.Max(highest, seq);
                firstPrinted = Math.Min(firstPrinted, at);
                lastReceived = received;
                lags.Add((received - at) / 1e6);
            }
        }
        await memory.DisposeAsync();
        // What was stored: the whole stdout stream read back once the build ended, its numbered lines counted (again for
        // up to a minute while lines are missing: batches may still be on their way).
        long storedLines = 0, storedGaps = 0, storedPrevious = 0;
        var settle = Stopwatch.StartNew();
        for (var tries = 0; tries == 0 || (storedLines != expected && settle.Elapsed < TimeSpan.FromMinutes(1)); tries++)
        {
            if (tries > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
            (storedLines, storedGaps, storedPrevious) = (0, 0, 0);
            using var whole = await follower.GetAsync(new Uri(farm.SubmissionUrl, $"/api/v1/builds/{build}/logs?stream=stdout"), HttpCompletionOption.ResponseHeadersRead, stop.Token);
            whole.EnsureSuccessStatusCode();
            using var text = new StreamReader(await whole.Content.ReadAsStreamAsync(stop.Token));
            while (await text.ReadLineAsync(stop.Token) is { } printed)
            {
                if (printed.StartsWith("bench-log ", StringComparison.Ordinal) && printed.Length >= 40
                    && long.TryParse(printed.AsSpan(10, 10), CultureInfo.InvariantCulture, out var seq))
                {
                    storedLines++;
                    storedGaps += seq != storedPrevious + 1 ? 1 : 0;
                    storedPrevious = seq;
                }
            }
        }
        var figures = new Dictionary<string, double>
        {
            ["logBytes"] = options.LogBytes,
            ["linesPrinted"] = expected,
            ["linesReceived"] = lines,
            // Lines the follower never got (followerGaps: in how many places the lines it got jump forward).
            ["followerMissedLines"] = expected - lines,
            ["followerLastLine"] = highest,
            ["followerGaps"] = gaps,
            ["followerOutOfOrder"] = backwards,
            ["followerEnded"] = ended ? 1 : 0,
            ["linesStored"] = storedLines,
            // Where the stored lines do not follow each other (a line missing, doubled or out of order).
            ["storedGaps"] = storedGaps,
            ["lost"] = expected - storedLines,
            ["linesStoredPerSecond"] = lines == 0 ? 0 : Math.Round(lines / ((lastReceived - firstPrinted) / 1e9), 0),
            ["workerPeakRssMb"] = Mb(memory.Peaks.Max()),
        };
        Percentiles.Add(figures, "followerLagMs", lags);
        return figures;
    }
}
