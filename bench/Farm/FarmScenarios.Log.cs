using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
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
            foreach (var printed in text.GetString()!.Split('\n'))
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
        // Whether the whole log was stored: the stdout stream's end holds the last line printed.
        var last = $"bench-log {expected:D10} ";
        var stored = false;
        for (var clock = Stopwatch.StartNew(); !stored && clock.Elapsed < TimeSpan.FromMinutes(1);)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(farm.SubmissionUrl, $"/api/v1/builds/{build}/logs?stream=stdout"));
            request.Headers.Range = new RangeHeaderValue(Math.Max(0, options.LogBytes - 1000), null);
            using var tail = await follower.SendAsync(request);
            stored = tail.IsSuccessStatusCode && (await tail.Content.ReadAsStringAsync()).Contains(last, StringComparison.Ordinal);
            if (!stored)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
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
            ["storedComplete"] = stored ? 1 : 0,
            // 1 when the stored log lacks its last line.
            ["lost"] = stored ? 0 : 1,
            ["linesStoredPerSecond"] = lines == 0 ? 0 : Math.Round(lines / ((lastReceived - firstPrinted) / 1e9), 0),
            ["workerPeakRssMb"] = Mb(memory.Peaks.Max()),
        };
        Percentiles.Add(figures, "followerLagMs", lags);
        return figures;
    }
}
