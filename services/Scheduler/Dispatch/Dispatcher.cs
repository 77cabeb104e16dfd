using System.Data;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// One dispatch pass: under a PostgreSQL advisory lock (so two Scheduler instances never place the same
/// build twice or overfill a server), take the queue in <see cref="QueueOrder"/>, place each build with
/// <see cref="Placement"/>, and record each placement and its <see cref="AssignBuild"/> in one transaction.
/// A pass reads the queue only when a slot is free, only as far as the free slots ask, and stops as soon as no
/// server can take another build: with 100,000 queued and a full farm it costs what it costs with none.
/// In the automatic limit mode the limit in force (Settings puts it in Redis) is the builds running plus the free slots
/// of servers below the utilisation threshold, within the configured bounds; a pass never places more than those free
/// slots, so bounding it by maxConcurrentBuilds keeps it within that limit too (but for the seconds the limit takes to
/// follow a change: a build placed meanwhile waits at the Worker for a farm-wide slot).
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
    private static readonly Counter<long> Expired = Meter.CreateCounter<long>("buildfarm.scheduler.assignments_expired", description: "Placements whose order the saga did not take up in time");
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
        var transaction = await session.BeginAsync(ct);
        var connection = session.Connection;

        await PostgresAdvisoryLock.AcquireForTransactionAsync(transaction, "buildfarm.dispatch", ct);
        var now = time.GetUtcNow();
        // Placements the saga has taken up (or passed) are done; one it has not taken up within the assignment
        // timeout lost its order (or the order is stuck somewhere) and expires, so the build is placed again.
        await using (var expire = new NpgsqlCommand($"""
            DELETE FROM build_assignment a
             WHERE a.assigned_at < @expired
                OR NOT EXISTS (SELECT 1 FROM build_state s
                                WHERE s.correlation_id = a.build_id AND s.current_state = {Data.BuildStateTable.Literal(BuildStates.Queued)}
                                  AND s.attempt < a.attempt)
            RETURNING a.build_id, a.server_id, a.attempt, a.assigned_at < @expired AS expired
            """, connection, transaction))
        {
            expire.Parameters.AddWithValue("expired", now - options.Value.AssignmentTimeout);
            await using var reader = await expire.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (reader.GetBoolean("expired"))
                {
                    Expired.Add(1);
                    logger.LogWarning("The placement of build {BuildId} attempt {Attempt} on {ServerId} was not taken up within {Timeout}; placing it again",
                        reader.GetGuid("build_id"), reader.GetInt32("attempt"), reader.GetString("server_id"), options.Value.AssignmentTimeout);
                }
            }
        }

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
        var free = FreeSlots(servers.Values, used, farm.MaxConcurrentBuilds, threshold);
        var perGroup = Math.Max(MinHead, 2 * free);
        var decided = new HashSet<Guid>();
        var placedNow = new List<Guid>();
        IReadOnlyDictionary<string, int>? served = null;
        while (free > 0)
        {
            var (head, complete) = await FarmSnapshot.LoadQueueHeadAsync(connection, transaction, perGroup, placedNow, ct);
            read += head.Count;
            served ??= await FarmSnapshot.LoadServedAsync(connection, transaction, head.Count == 0 ? now : head.Min(b => b.SubmittedAt), ct);
            var ordered = QueueOrder.Order(head, now, options.Value.AgingStep, served);
            foreach (var build in complete ? ordered : ordered.Take(perGroup))
            {
                if (!decided.Add(build.BuildId) || build.RetryAt is { } retryAt && retryAt > now)
                {
                    continue;
                }
                var decision = Placement.Choose(build, servers.Values, new FarmCapacity(used, farm.MaxConcurrentBuilds) { Shares = shares }, threshold);
                if (decision.Server is not { } server)
                {
                    continue;
                }
                await PlaceAsync(connection, transaction, outbox, build, server, now, ct);
                servers[server.ServerId] = server with { Assigned = server.Assigned + 1 };
                shares.Add(build);
                placedNow.Add(build.BuildId);
                used++;
                free = FreeSlots(servers.Values, used, farm.MaxConcurrentBuilds, threshold);
                if (free == 0)
                {
                    break;
                }
            }
            if (complete)
            {
                break;
            }
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

    private async Task PlaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgresOutbox outbox,
        QueuedBuild build, ServerSnapshot server, DateTimeOffset now, CancellationToken ct)
    {
        var attempt = build.Attempt + 1;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO build_assignment (build_id, server_id, attempt, assigned_at) VALUES (@id, @server, @attempt, @now)
            ON CONFLICT (build_id) DO UPDATE SET server_id = excluded.server_id, attempt = excluded.attempt, assigned_at = excluded.assigned_at
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", build.BuildId);
            insert.Parameters.AddWithValue("server", server.ServerId);
            insert.Parameters.AddWithValue("attempt", attempt);
            insert.Parameters.AddWithValue("now", now);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await outbox.PublishAsync(new AssignBuild { BuildId = build.BuildId, Attempt = attempt, ServerId = server.ServerId, AssignedAt = now }, ct);
        logger.LogInformation("Placed build {BuildId} attempt {Attempt} on {ServerId}", build.BuildId, attempt, server.ServerId);
    }
}
