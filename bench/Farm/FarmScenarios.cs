using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BuildFarm.Bench;
using BuildFarm.ServiceDefaults.Auth;
using Npgsql;

namespace BuildFarm.Farm.Bench;

/// <summary>
/// Scenarios 2–6 on farms of the run's own: 2, 3, 4 and 6 share one farm (two Workers of 20 slots, farm-wide limit
/// 20, changed where a scenario needs another); each run of 5 gets a fresh farm (one Worker) so its queue starts empty.
/// </summary>
internal sealed class FarmScenarios(BenchOptions options, FarmServers servers, string temp, Action<string> say) : IAsyncDisposable
{
    public const string NoopSpec = "noop.spec";
    public const string LogSpec = "log.spec";
    private const int SharedLimit = 20;
    private const int WorkerCapacity = 20;

    private const string PassDuration = "buildfarm.scheduler.dispatch_pass.duration";

    /// <summary>Where the Schedulers export their metrics (the dispatch pass's duration among them).</summary>
    private readonly OtlpMetrics _metrics = new();
    private BenchFarm? _shared;
    private int _farms;

    private IReadOnlyDictionary<string, string> Specs => new Dictionary<string, string>
    {
        [NoopSpec] = "Name: noop\nVersion: 1.0\nRelease: 1\nSummary: does nothing\nLicense: MIT\nBuildArch: noarch\n",
        [LogSpec] = $"#bench log-bytes={options.LogBytes}\nName: log\nVersion: 1.0\nRelease: 1\nSummary: prints its log\nLicense: MIT\nBuildArch: noarch\n",
    };

    private static string Settings(int limit, int maxQueue = 100_000) =>
        // No CPU/memory threshold: on this loaded 2-core machine it would hold builds back at random.
        $"{{\"maxConcurrentBuilds\": {limit}, \"utilizationThresholdPercent\": 100, \"maxQueueSize\": {maxQueue}, \"maxLogBytesPerAttempt\": {1024 * 1024 * 1024}}}";

    private async Task<BenchFarm> NewFarmAsync(int workers, IReadOnlyDictionary<string, string>? extra = null, int limit = SharedLimit)
    {
        var farm = new BenchFarm(servers, temp, $"bench{++_farms}_{Guid.NewGuid():N}"[..16], say);
        try
        {
            await farm.PrepareAsync(Specs, workers, WorkerCapacity, extra);
            await farm.StartAsync(Settings(limit), _metrics.Environment);
            return farm;
        }
        catch
        {
            await farm.DisposeAsync();
            throw;
        }
    }

    private async Task<BenchFarm> SharedAsync()
    {
        if (_shared is null)
        {
            _shared = await NewFarmAsync(workers: 2);
            await WarmUpAsync(_shared);
        }
        return _shared;
    }

    /// <summary>
    /// Waits until every Worker of <paramref name="farm"/> is online, then runs one build per Worker to its end, so no
    /// scenario measures a first heartbeat, a first clone of the repository or a cold JIT.
    /// </summary>
    private async Task WarmUpAsync(BenchFarm farm)
    {
        using var http = farm.Client("bench-warm-up", FarmRoles.Submitter);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(farm.SubmissionUrl, "/api/v1/servers")));
            var online = document.RootElement.EnumerateArray().Count(s => s.TryGetProperty("status", out var o) && o.GetString() == "Online");
            if (online >= farm.Workers.Count)
            {
                break;
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{online} of {farm.Workers.Count} build servers online after 2 minutes: {document.RootElement}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        var ids = new List<Guid>();
        for (var i = 0; i < farm.Workers.Count; i++)
        {
            var (id, error) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(NoopSpec));
            ids.Add(id ?? throw new InvalidOperationException("the warm-up build was refused: " + error));
        }
        await FarmApi.AwaitEndedAsync(http, farm.SubmissionUrl, "bench-warm-up", ids, TimeSpan.FromMinutes(3));
        say($"{farm.Name}: {farm.Workers.Count} build servers online, warmed up in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Stops the shared farm (before scenario 5, whose farm should not share the machine with it).</summary>
    public async Task StopSharedAsync()
    {
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
            _shared = null;
        }
    }

    private static string User(string scenario) => $"bench-{scenario}-{Guid.NewGuid().ToString("N")[..8]}";

    // --------------------------------------------------------------------------------------------------------------
    // 2. Idle dispatch

    public async Task<Dictionary<string, double>> IdleDispatchAsync()
    {
        var farm = await SharedAsync();
        var user = User("idle");
        using var http = farm.Client(user, FarmRoles.Submitter);
        var submitted = new Dictionary<Guid, double>();
        var refused = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < options.IdleBuilds; i++)
        {
            var due = TimeSpan.FromSeconds(i / options.IdleRate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }
            var at = WallClock.Now;
            var (id, _) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(NoopSpec));
            if (id is { } built)
            {
                submitted[built] = at;
            }
            else
            {
                refused++;
            }
        }
        var ledger = await BuildLedger.AwaitAsync(farm.Ledger, submitted.Keys, _ => true, TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(options.IdleBuilds));
        var ended = await FarmApi.AwaitEndedAsync(http, farm.SubmissionUrl, user, submitted.Keys, TimeSpan.FromMinutes(3));
        var figures = new Dictionary<string, double>
        {
            ["builds"] = submitted.Count,
            ["ratePerSecond"] = options.IdleRate,
            ["refused"] = refused,
            ["notCompleted"] = submitted.Keys.Count(id => ended[id].State != "Completed"),
            ["lost"] = submitted.Keys.Count(id => !ended.ContainsKey(id)),
        };
        Percentiles.Add(figures, "submitToStartMs", submitted.Select(s => (ledger[s.Key].SourceStart - s.Value) * 1000));
        return figures;
    }

    // --------------------------------------------------------------------------------------------------------------
    // 3. Slot hand-off

    public async Task<Dictionary<string, double>> SlotHandOffAsync()
    {
        var farm = await SharedAsync();
        await farm.PatchSettingsAsync(Settings(1));
        try
        {
            var user = User("handoff");
            using var http = farm.Client(user, FarmRoles.Submitter);
            var ids = new List<Guid>();
            var refused = 0;
            for (var i = 0; i < options.HandOffBuilds; i++)
            {
                var (id, _) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(NoopSpec));
                if (id is { } built)
                {
                    ids.Add(built);
                }
                else
                {
                    refused++;
                }
            }
            var ledger = await BuildLedger.AwaitAsync(farm.Ledger, ids, b => b.RebuildEnd is not null, TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(5 * ids.Count));
            var ended = await FarmApi.AwaitEndedAsync(http, farm.SubmissionUrl, user, ids, TimeSpan.FromMinutes(2));
            var runs = ids.Select(id => ledger[id]).OrderBy(b => b.SourceStart).ToList();
            var gaps = runs.Zip(runs.Skip(1), (before, next) => (next.SourceStart - before.RebuildEnd!.Value) * 1000).ToList();
            var figures = new Dictionary<string, double>
            {
                ["builds"] = ids.Count,
                ["refused"] = refused,
                ["notCompleted"] = ids.Count(id => ended[id].State != "Completed"),
                ["lost"] = ids.Count(id => !ended.ContainsKey(id)),
                // A negative gap is two builds running at once under limit 1.
                ["overlaps"] = gaps.Count(g => g < 0),
            };
            Percentiles.Add(figures, "handOffMs", gaps);
            return figures;
        }
        finally
        {
            await farm.PatchSettingsAsync(Settings(SharedLimit));
        }
    }

    // --------------------------------------------------------------------------------------------------------------
    // 4. Throughput

    public async Task<Dictionary<string, double>> ThroughputAsync()
    {
        var farm = await SharedAsync();
        var user = User("throughput");
        var before = await CountersAsync(farm);
        var (ids, refused, firstSubmit, submitSeconds) = await SubmitManyAsync(farm, options.ThroughputBuilds, options.MassClients, _ => user, served: true);
        var timeout = TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(ids.Count / 2.0);
        await BuildLedger.AwaitAsync(farm.Ledger, ids, b => b.RebuildEnd is not null, timeout);
        using var viewer = farm.Client(user, FarmRoles.Viewer);
        var ended = await FarmApi.AwaitEndedAsync(viewer, farm.SubmissionUrl, user, ids, TimeSpan.FromMinutes(3));
        var lastFinished = ids.Where(ended.ContainsKey).Max(id => ended[id].FinishedAt ?? ended[id].SubmittedAt);
        // RabbitMQ's management statistics lag by up to their interval (1 s here); PostgreSQL's cumulative statistics are
        // flushed by an idle backend within 10 s.
        await Task.Delay(options.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(11));
        var after = await CountersAsync(farm);
        var n = (double)ids.Count;
        return new Dictionary<string, double>
        {
            ["builds"] = ids.Count,
            ["refused"] = refused,
            ["notCompleted"] = ids.Count(id => ended[id].State != "Completed"),
            ["lost"] = ids.Count(id => !ended.ContainsKey(id)),
            ["submitSeconds"] = Math.Round(submitSeconds, 2),
            ["buildsPerSecond"] = Math.Round(n / (WallClock.Of(lastFinished) - firstSubmit), 2),
            ["messagesPublishedPerBuild"] = Math.Round((after.Published - before.Published) / n, 2),
            ["messagesDeliveredPerBuild"] = Math.Round((after.Delivered - before.Delivered) / n, 2),
            ["pgTransactionsPerBuild"] = Math.Round((after.Commits - before.Commits) / n, 2),
            ["pgWriteTransactionsPerBuild"] = Math.Round((after.Xid - before.Xid) / n, 2),
        };
    }

    private sealed record Counters(long Published, long Delivered, long Commits, long Xid);

    /// <summary>
    /// The farm's virtual host's message statistics (published, delivered) from RabbitMQ's management API; the farm
    /// database's committed transactions (pg_stat_database) and the next transaction id (write transactions take one).
    /// </summary>
    private async Task<Counters> CountersAsync(BenchFarm farm)
    {
        using var management = new HttpClient { BaseAddress = new Uri(servers.Management.GetLeftPart(UriPartial.Authority) + "/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("guest:guest")));
        var vhost = Uri.UnescapeDataString(farm.VirtualHost.AbsolutePath.TrimStart('/'));
        using var document = JsonDocument.Parse(await management.GetStringAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}"));
        long Stat(string name) => document.RootElement.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
        await using var connection = new NpgsqlConnection(farm.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT xact_commit, pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM pg_stat_database WHERE datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Counters(Stat("publish"), Stat("deliver_get"), reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// Submits <paramref name="count"/> builds from <paramref name="clients"/> concurrent clients (client i as user
    /// <paramref name="userOf"/>(i)); returns the accepted ids, how many were refused, when the first was sent (Unix
    /// seconds) and how long all took.
    /// </summary>
    private static async Task<(List<Guid> Ids, int Refused, double FirstSubmit, double Seconds)> SubmitManyAsync(
        BenchFarm farm, int count, int clients, Func<int, string> userOf, bool served, Dictionary<Guid, string>? owners = null)
    {
        var ids = new List<Guid>(count);
        var refused = 0;
        string? firstError = null;
        var next = -1;
        var first = WallClock.Now;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var user = userOf(c);
            using var http = farm.Client(user, FarmRoles.Submitter);
            while (Interlocked.Increment(ref next) < count)
            {
                var (id, error) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(NoopSpec, served));
                lock (ids)
                {
                    if (id is { } built)
                    {
                        ids.Add(built);
                        owners?.Add(built, user);
                    }
                    else
                    {
                        refused++;
                        firstError ??= error;
                    }
                }
            }
        }));
        if (firstError is not null)
        {
            Console.WriteLine($"[bench] {refused} submissions refused; the first: {firstError}");
        }
        return (ids, refused, first, clock.Elapsed.TotalSeconds);
    }

    // --------------------------------------------------------------------------------------------------------------
    // 5. Mass rebuild

    public async Task<Dictionary<string, double>> MassRebuildAsync()
    {
        // A fresh farm for each run, so its queue starts empty; --quick uses the shared farm (scenario 5 runs last) to
        // spare a second farm's start.
        BenchFarm farm;
        BenchFarm? own = null;
        if (options.Quick)
        {
            farm = await SharedAsync();
        }
        else
        {
            await StopSharedAsync();
            farm = own = await NewFarmAsync(workers: 1);
            await WarmUpAsync(own);
        }
        await using var disposeOwn = own;
        var figures = new Dictionary<string, double>();
        await using var memory = new RssSampler([farm.Scheduler.Pid], TimeSpan.FromMilliseconds(250));
        figures["schedulerRssEmptyMb"] = Mb(RssSampler.Rss(farm.Scheduler.Pid));

        var probeUser = User("probe");
        using var probe = farm.Client(probeUser, FarmRoles.Submitter);
        var exportWait = TimeSpan.FromSeconds(30);
        var beforeEmpty = await _metrics.NextAsync(PassDuration, exportWait);
        var empty = await ProbeAsync(farm, probe);
        var afterEmpty = await _metrics.NextAsync(PassDuration, exportWait);
        Percentiles.Add(figures, "probeEmptyQueueMs", empty);

        // 20,000 submissions from 32 clients, each its own submitter; every accepted id must be found again.
        var owners = new Dictionary<Guid, string>();
        var (ids, refused, _, seconds) = await SubmitManyAsync(farm, options.MassSubmissions, options.MassClients, c => $"bench-mass-c{c}", served: false, owners);
        figures["submissions"] = options.MassSubmissions;
        figures["accepted"] = ids.Count;
        figures["refused"] = refused;
        figures["acceptedPerSecond"] = Math.Round(ids.Count / seconds, 1);
        using var viewer = farm.Client("bench-viewer", FarmRoles.Viewer);
        var found = new HashSet<Guid>();
        foreach (var user in owners.Values.Distinct())
        {
            found.UnionWith((await FarmApi.ListAllAsync(viewer, farm.SubmissionUrl, "submitter=" + user)).Select(b => b.Id));
        }
        figures["lost"] = ids.Count(id => !found.Contains(id));
        say($"mass rebuild: {ids.Count} accepted at {figures["acceptedPerSecond"]}/s, {figures["lost"]} not found again");

        // The rest of the queue, through the API as well (leaving one place for each probe).
        var fill = options.MassQueue - 1 - ids.Count;
        if (fill > 0)
        {
            var (more, moreRefused, _, fillSeconds) = await SubmitManyAsync(farm, fill, options.MassClients, c => $"bench-fill-c{c}", served: false);
            figures["fillAccepted"] = more.Count;
            figures["fillRefused"] = moreRefused;
            figures["fillPerSecond"] = Math.Round(more.Count / fillSeconds, 1);
        }
        // Accepted is not yet queued: the Scheduler takes each BuildRequested from its queue. Measure with the whole
        // queue in the Scheduler's hands, and how long it took to catch up with the last acceptance.
        var accepted = ids.Count + (int)figures.GetValueOrDefault("fillAccepted");
        var catchUp = Stopwatch.StartNew();
        while ((figures["queued"] = await QueuedAsync(viewer, farm)) < accepted && catchUp.Elapsed < TimeSpan.FromSeconds(60 + accepted / 20.0))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        figures["schedulerCatchUpSeconds"] = Math.Round(catchUp.Elapsed.TotalSeconds, 1);
        say($"mass rebuild: {figures["queued"]} queued of {accepted} accepted ({figures["schedulerCatchUpSeconds"]} s after the last acceptance)");

        // Status and list with that queue, one request at a time.
        var random = new Random(1);
        Percentiles.Add(figures, "statusMs", await FarmApi.TimeAsync(viewer, options.MassRequests,
            _ => new Uri(farm.SubmissionUrl, $"/api/v1/builds/{ids[random.Next(ids.Count)]}/status")));
        Percentiles.Add(figures, "listMs", await FarmApi.TimeAsync(viewer, options.MassRequests,
            _ => new Uri(farm.SubmissionUrl, "/api/v1/builds?limit=50")));
        Percentiles.Add(figures, "listBySubmitterMs", await FarmApi.TimeAsync(viewer, options.MassRequests,
            i => new Uri(farm.SubmissionUrl, $"/api/v1/builds?limit=50&submitter=bench-mass-c{i % options.MassClients}")));

        var beforeFull = await _metrics.NextAsync(PassDuration, exportWait);
        var full = await ProbeAsync(farm, probe);
        var afterFull = await _metrics.NextAsync(PassDuration, exportWait);
        Percentiles.Add(figures, "probeFullQueueMs", full);
        // The Scheduler's own measure of its passes (buildfarm.scheduler.dispatch_pass.duration, exported over OTLP):
        // every pass while the probes ran (theirs, and those heartbeats and ended builds started).
        figures["passesEmptyQueue"] = afterEmpty.Count - beforeEmpty.Count;
        figures["passEmptyQueueMeanMs"] = Math.Round(afterEmpty.MeanSince(beforeEmpty), 2);
        figures["passesFullQueue"] = afterFull.Count - beforeFull.Count;
        figures["passFullQueueMeanMs"] = Math.Round(afterFull.MeanSince(beforeFull), 2);
        figures["passFullOverEmpty"] = Math.Round(figures["passFullQueueMeanMs"] / figures["passEmptyQueueMeanMs"], 2);
        figures["probeFullOverEmptyP50"] = Math.Round(Percentiles.Of([.. full.Order()], 50) / Percentiles.Of([.. empty.Order()], 50), 2);
        figures["schedulerRssQueuedMb"] = Mb(RssSampler.Rss(farm.Scheduler.Pid));
        await memory.DisposeAsync();
        figures["schedulerRssPeakMb"] = Mb(memory.Peaks[0]);
        return figures;
    }

    private static double Mb(long bytes) => Math.Round(bytes / 1024.0 / 1024.0, 1);

    /// <summary>
    /// The cost of a dispatch pass as a user sees it: builds the one Worker can take, submitted one at a time, each
    /// from its submission until its build process started (the pass that places it reads the whole queue).
    /// </summary>
    private async Task<List<double>> ProbeAsync(BenchFarm farm, HttpClient probe)
    {
        var times = new List<double>();
        for (var i = 0; i < options.MassProbes; i++)
        {
            var at = WallClock.Now;
            var (id, error) = await FarmApi.SubmitAsync(probe, farm.SubmissionUrl, farm.Build(NoopSpec));
            if (id is not { } built)
            {
                throw new InvalidOperationException("a probe build was refused: " + error);
            }
            var ledger = await BuildLedger.AwaitAsync(farm.Ledger, [built], _ => true, TimeSpan.FromMinutes(2));
            times.Add((ledger[built].SourceStart - at) * 1000);
            await BuildLedger.AwaitAsync(farm.Ledger, [built], b => b.RebuildEnd is not null, TimeSpan.FromMinutes(2));
        }
        return times;
    }

    private static async Task<double> QueuedAsync(HttpClient viewer, BenchFarm farm)
    {
        using var document = JsonDocument.Parse(await viewer.GetStringAsync(new Uri(farm.SubmissionUrl, "/api/v1/builds/queue/status")));
        return document.RootElement.GetProperty("queued").GetInt32();
    }

    // --------------------------------------------------------------------------------------------------------------
    // 6. A build printing a large log

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
        long lines = 0, highest = 0;
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
            // Lines the follower never got (the farm's follower ends 0.5 s after the build's end: batches later than that are not sent).
            ["followerMissedLines"] = expected - lines,
            ["followerLastLine"] = highest,
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

    public async ValueTask DisposeAsync()
    {
        await StopSharedAsync();
        await _metrics.DisposeAsync();
    }
}
