using System.Diagnostics;
using System.Text.Json;
using BuildFarm.Bench;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Farm.Bench;

/// <summary>
/// Scenarios 2–6 on farms of the run's own: 2, 3, 4 and 6 share one farm (two Workers of 20 slots, farm-wide limit
/// 20, changed where a scenario needs another); each run of 5 gets a fresh farm (one Worker) so its queue starts empty.
/// </summary>
internal sealed partial class FarmScenarios(BenchOptions options, FarmServers servers, string temp, Action<string> say) : IAsyncDisposable
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

    public async ValueTask DisposeAsync()
    {
        await StopSharedAsync();
        await _metrics.DisposeAsync();
    }
}
