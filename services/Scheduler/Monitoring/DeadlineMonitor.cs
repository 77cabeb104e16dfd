using System.Data;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Scheduler.Consumers;
using BuildFarm.Scheduler.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Monitoring;

/// <summary>
/// Once a monitor interval, and in one Scheduler instance at a time: marks build servers that missed three
/// heartbeats Offline and reports their builds lost ("build server lost": retried elsewhere or failed), and
/// tells each build whose state deadline has passed (<see cref="BuildDeadlineReached"/>), all in one transaction
/// with the reports in the outbox, so a server is offline exactly when its builds were reported lost.
/// A server is judged only while the Scheduler's own probes come through the heartbeat queue without a gap
/// (<see cref="BusProbeSender"/>), and by a last-seen time no older than the start of that stretch: heartbeats that
/// waited while the broker, the database or every Scheduler was away are not mistaken for a silent server.
/// Deadlines get the same grace. The bus has no delayed delivery here, so deadlines live in the database.
/// </summary>
public sealed class DeadlineMonitor(
    IServiceScopeFactory scopes,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<DeadlineMonitor> logger) : BackgroundService
{
    private readonly Dictionary<(Guid, int, string), DateTimeOffset> announced = [];

    // Until this process has been up (bus consuming), nothing is judged: see also the probes.
    private DateTimeOffset startedAt = DateTimeOffset.MaxValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services start before the bus does: judge nothing until the whole host, bus included, runs.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        startedAt = time.GetUtcNow();
        using var timer = new PeriodicTimer(options.Value.MonitorInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Deadline check failed; trying again at the next tick");
            }
        }
    }

    public async Task CheckAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var session = scope.ServiceProvider.GetRequiredService<PostgresSession>();
        var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
        var transaction = await session.BeginAsync(ct);
        var connection = session.Connection;
        if (!await PostgresAdvisoryLock.TryAcquireForTransactionAsync(transaction, "buildfarm.deadlines", ct))
        {
            return;
        }

        DateTimeOffset flowingSince;
        await using (var probe = new NpgsqlCommand("SELECT flowing_since FROM bus_probe WHERE queue = @queue AND last_consumed_at >= @fresh", connection, transaction))
        {
            probe.Parameters.AddWithValue("queue", RecordHeartbeatConsumer.Queue);
            probe.Parameters.AddWithValue("fresh", now - RecordHeartbeatConsumer.ProbeGap(options.Value));
            // Npgsql reads timestamptz as a UTC DateTime.
            if (await probe.ExecuteScalarAsync(ct) is not DateTime since)
            {
                // The probes are not coming through: neither are heartbeats nor reports, so nothing is judged.
                return;
            }
            flowingSince = new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) is var flowing && flowing > startedAt ? flowing : startedAt;
        }

        var lost = new List<(Guid BuildId, int Attempt, string ServerId)>();
        await using (var command = new NpgsqlCommand($"""
            WITH gone AS (
                UPDATE build_server SET online = false
                 WHERE online AND GREATEST(last_seen, @flowing) < @now - heartbeat_interval * 3
                RETURNING server_id)
            SELECT s.correlation_id, s.attempt, s.server_id
              FROM build_state s JOIN gone g ON g.server_id = s.server_id
             WHERE s.current_state IN {BuildStateTable.OnAServer}
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("flowing", flowingSince);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                lost.Add((reader.GetGuid("correlation_id"), reader.GetInt32("attempt"), reader.GetString("server_id")));
            }
        }

        var due = new List<(Guid BuildId, int Attempt, string State, DateTimeOffset DeadlineAt)>();
        await using (var command = new NpgsqlCommand($"""
            SELECT correlation_id, attempt, current_state, deadline_at
              FROM build_state
             WHERE current_state IN {BuildStateTable.OnAServer}
               AND GREATEST(deadline_at,
                            @flowing + (SELECT COALESCE(max(heartbeat_interval), interval '5 seconds') * 3 FROM build_server)) <= @now
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("flowing", flowingSince);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                due.Add((reader.GetGuid("correlation_id"), reader.GetInt32("attempt"), reader.GetString("current_state"), reader.GetFieldValue<DateTimeOffset>("deadline_at")));
            }
        }
        foreach (var (buildId, attempt, serverId) in lost)
        {
            logger.LogWarning("Build server {ServerId} missed three heartbeats: build {BuildId} attempt {Attempt} is lost", serverId, buildId, attempt);
            await outbox.PublishAsync(new BuildRunFinished
            {
                BuildId = buildId,
                Attempt = attempt,
                ServerId = serverId,
                Outcome = BuildRunOutcome.InfrastructureFailed,
                Reason = "build server lost",
                FinishedAt = now,
            }, ct);
            // Should the server come back, it stops the orphaned attempt and frees its slot.
            await outbox.SendAsync(StateMachines.BuildStateMachine.WorkerQueue(serverId),
                new StopBuildRun { BuildId = buildId, Attempt = attempt, As = BuildRunOutcome.InfrastructureFailed, Reason = "build server lost" }, ct);
        }

        // A deadline is announced once per (build, attempt, state) and again only if it is still due a while later.
        foreach (var key in announced.Where(a => now - a.Value > options.Value.MonitorInterval * 30).Select(a => a.Key).ToList())
        {
            announced.Remove(key);
        }
        var announcing = new List<(Guid, int, string)>();
        foreach (var (buildId, attempt, state, deadlineAt) in due)
        {
            if (!announced.ContainsKey((buildId, attempt, state)))
            {
                announcing.Add((buildId, attempt, state));
                await outbox.PublishAsync(new BuildDeadlineReached { BuildId = buildId, Attempt = attempt, State = state, DeadlineAt = deadlineAt }, ct);
            }
        }
        await session.CommitAsync(ct);
        foreach (var key in announcing)
        {
            announced[key] = now;
        }
    }
}
