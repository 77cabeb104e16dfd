using System.Data;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Saga;
using BuildFarm.Scheduler.StateMachines;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// One dispatch pass: under a PostgreSQL advisory lock (so two Scheduler instances never place the same
/// build twice or overfill a server), take the queue in <see cref="QueueOrder"/>, place each build with
/// <see cref="Placement"/>, and dispatch it: the saga's transition to Dispatched and its <see cref="DispatchBuild"/>, for
/// every build placed, commit in the pass's one transaction.
/// A pass reads the queue only when a slot is free and some queued build needs only what a server with a free slot
/// offers, only as far as the free slots ask, and stops as soon as no server can take another build: with 100,000
/// queued and a full farm, or none of them for the servers with a free slot, it costs what it costs with none.
/// In the automatic limit mode the limit in force (Settings puts it in Redis) is the builds running plus the free slots
/// of servers below the utilisation threshold, within the configured bounds; a pass never places more than those free
/// slots, so bounding it by maxConcurrentBuilds keeps it within that limit too (but for the seconds the limit takes to
/// follow a change: a build placed meanwhile waits at the Worker for a farm-wide slot).
/// Beyond the limit a pass places <see cref="SchedulerOptions.ReadyAhead"/> builds more, which wait at their servers
/// checked out, each allowed to wait as long as the longest build runs (see <see cref="BuildStateMachine.DispatchTo"/>).
/// </summary>
public sealed class Dispatcher(
    IServiceScopeFactory scopes,
    FarmSettingsCache settings,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<Dispatcher> logger)
{
    private static readonly ActivitySource Activity = new(Extensions.TelemetryName);
    private static readonly Meter Meter = new(Extensions.TelemetryName);
    private static readonly Counter<long> Placed = Meter.CreateCounter<long>("buildfarm.scheduler.dispatched", description: "Builds placed on a build server");
    private static readonly Histogram<double> PassDuration = Meter.CreateHistogram<double>("buildfarm.scheduler.dispatch_pass.duration", "ms");

    /// <summary>The fewest builds of each (submitter, priority) a pass reads: reading 16 costs what reading 1 does.</summary>
    public const int MinHead = 16;

    /// <summary>The outcome of a pass: how many builds were placed, when a backoff ends next, and how many queued builds it read.</summary>
    public sealed record PassResult(int Placed, DateTimeOffset? NextRetryAt, int QueueRead);

    public async Task<PassResult> RunPassAsync(CancellationToken ct)
    {
        using var activity = Activity.StartActivity("dispatch pass");
        var started = Stopwatch.GetTimestamp();
        await using var scope = scopes.CreateAsyncScope();
        var session = scope.ServiceProvider.GetRequiredService<PostgresSession>();
        var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
        var sagas = scope.ServiceProvider.GetRequiredService<PostgresSagaStore<BuildState>>();
        var transaction = await session.BeginAsync(ct);
        var connection = session.Connection;

        await PostgresAdvisoryLock.AcquireForTransactionAsync(transaction, "buildfarm.dispatch", ct);
        var now = time.GetUtcNow();
        var farm = settings.Current;
        var threshold = farm.UtilizationThresholdPercent;
        var (serverList, used) = await FarmSnapshot.LoadServersAsync(connection, transaction, now, ct);
        var servers = serverList.ToDictionary(s => s.ServerId);
        var read = 0;
        var shares = ShareCaps.None;
        if (farm.MaxRunningPerSubmitter > 0 || farm.MaxRunningPerProject > 0)
        {
            var (bySubmitter, byProject) = await FarmSnapshot.LoadRunningAsync(connection, transaction, ct);
            shares = new ShareCaps(farm.MaxRunningPerSubmitter, farm.MaxRunningPerProject, bySubmitter, byProject);
        }

        // Read the queue only as far as the free slots ask: the first `perGroup` builds of every (submitter, priority)
        // hold the first `perGroup` of the whole order (see QueueOrder). Builds that cannot go anywhere now do not use
        // a slot, so when the free slots outlast that prefix, read a longer one.
        var ahead = options.Value.ReadyAhead(farm.MaxConcurrentBuilds);
        var free = FreeSlots(servers.Values, used, farm.MaxConcurrentBuilds + ahead, threshold);
        // Nothing queued that a server with a free slot could take: no queue to read (however long it is).
        List<ServerSnapshot> Open() => [.. servers.Values.Where(s => s.Online && !s.Maintenance && !s.IsFull && !s.IsOverThreshold(threshold))];
        var placeable = free > 0 && await FarmSnapshot.AnyPlaceableAsync(connection, transaction, Open(), now, ct);
        var perGroup = Math.Max(MinHead, 2 * free);
        var decided = new HashSet<Guid>();
        var placedNow = new List<QueuedBuild>();
        IReadOnlyDictionary<string, int>? served = null;
        while (placeable && free > 0)
        {
            var (queued, complete) = await FarmSnapshot.LoadQueueHeadAsync(connection, transaction, perGroup, ct);
            read += queued.Count;
            // The builds this pass dispatched left the queue; with them the longer read is again a prefix of every group,
            // in which each build keeps its place (and its submitter's turn) in the order.
            var head = placedNow.Count == 0 ? queued : [.. queued, .. placedNow];
            served ??= await FarmSnapshot.LoadServedAsync(connection, transaction, head.Count == 0 ? now : head.Min(b => b.SubmittedAt), ct);
            var ordered = QueueOrder.Order(head, now, options.Value.AgingStep, served);
            foreach (var build in complete ? ordered : ordered.Take(perGroup))
            {
                if (!decided.Add(build.BuildId) || build.RetryAt is { } retryAt && retryAt > now)
                {
                    continue;
                }
                var capacity = new FarmCapacity(used, farm.MaxConcurrentBuilds) { Ahead = ahead, Shares = shares };
                var decision = Placement.Choose(build, servers.Values, capacity, threshold);
                if (decision.Server is not { } server)
                {
                    continue;
                }
                if (!await PlaceAsync(session, sagas, outbox, build, server, farm, capacity.PlacesAhead, now, ct))
                {
                    continue;
                }
                servers[server.ServerId] = server with { Assigned = server.Assigned + 1 };
                shares.Add(build);
                placedNow.Add(build);
                used++;
                free = FreeSlots(servers.Values, used, farm.MaxConcurrentBuilds + ahead, threshold);
                if (free == 0)
                {
                    break;
                }
            }
            if (complete)
            {
                break;
            }
            // A longer read only when some build it would add could go to a server with a free slot: once the few a mass
            // rebuild's queue holds for the servers at hand are placed, the rest of it is not read (100,000 queued for
            // servers that are busy or absent made every pass read the whole queue, 320 ms, in `./farm bench`).
            placeable = free > 0 && await FarmSnapshot.AnyPlaceableAsync(connection, transaction, Open(), now, ct, decided);
            perGroup = perGroup > int.MaxValue / 4 ? int.MaxValue : perGroup * 4;
        }
        // A build in its retry backoff wakes the loop when the backoff ends, if a slot would be free for it.
        var nextRetry = free > 0 ? await FarmSnapshot.NextRetryAsync(connection, transaction, now, ct) : null;

        await session.CommitAsync(ct);
        Placed.Add(placedNow.Count);
        PassDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        activity?.SetTag("buildfarm.placed", placedNow.Count);
        activity?.SetTag("buildfarm.queue_read", read);
        return new PassResult(placedNow.Count, nextRetry, read);
    }

    /// <summary>
    /// How many more builds the farm could start now: what the farm-wide limit leaves, and no more than the free slots
    /// of servers that could take a build at all (online, not in maintenance, below the utilisation threshold).
    /// </summary>
    public static int FreeSlots(IEnumerable<ServerSnapshot> servers, int used, int limit, int thresholdPercent)
    {
        var open = servers
            .Where(s => s.Online && !s.Maintenance && !s.IsFull && !s.IsOverThreshold(thresholdPercent))
            .Sum(s => (long)(s.MaxConcurrentBuilds - s.Assigned));
        return (int)Math.Max(0, Math.Min(limit - used, open));
    }

    /// <summary>
    /// Dispatches <paramref name="build"/> to <paramref name="server"/>: the saga's Queued → Dispatched transition on its row
    /// (locked, so a message for the build being consumed now is waited for) and <see cref="DispatchBuild"/> in the outbox,
    /// both in the pass's transaction: no round trip through the bus and no second transaction per build. False when the
    /// build left the queue since it was read (cancelled, or a later attempt): the placement is dropped.
    /// </summary>
    private async Task<bool> PlaceAsync(PostgresSession session, PostgresSagaStore<BuildState> sagas, PostgresOutbox outbox,
        QueuedBuild build, ServerSnapshot server, FarmSettings farm, bool placedAhead, DateTimeOffset now, CancellationToken ct)
    {
        var saga = await sagas.LoadAsync(session, build.BuildId, lockRow: true, ct);
        if (saga is null || saga.CurrentState != BuildStates.Queued || saga.Attempt != build.Attempt)
        {
            logger.LogInformation("Build {BuildId} left the queue while it was being placed ({State}, attempt {Attempt})",
                build.BuildId, saga?.CurrentState ?? "gone", saga?.Attempt);
            return false;
        }
        var dispatch = BuildStateMachine.DispatchTo(saga, server.ServerId, now, farm, options.Value, placedAhead);
        await sagas.UpdateAsync(session, saga, ct);
        await outbox.SendAsync(BuildStateMachine.WorkerQueue(server.ServerId), dispatch, ct);
        logger.LogInformation("Dispatched build {BuildId} attempt {Attempt} to {ServerId}", build.BuildId, saga.Attempt, server.ServerId);
        return true;
    }
}
