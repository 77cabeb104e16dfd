using System.Diagnostics;
using System.Text.Json;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Farm.Bench;

/// <summary>Scenario 5: a mass rebuild, then status, list, dispatch and memory with the whole queue.</summary>
internal sealed partial class FarmScenarios
{

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
}
