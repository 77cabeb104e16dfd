using BuildFarm.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Monitoring;

/// <summary>
/// Once a monitor interval, and in one Scheduler instance at a time: marks build servers that missed three
/// heartbeats Offline and reports their builds lost ("build server lost": retried elsewhere or failed), and
/// tells each build whose state deadline has passed (<see cref="BuildDeadlineReached"/>).
/// The bus has no delayed delivery here, so deadlines live in the database and are checked from it.
/// </summary>
public sealed class DeadlineMonitor(
    NpgsqlDataSource dataSource,
    IBus bus,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<DeadlineMonitor> logger) : BackgroundService
{
    private readonly Dictionary<(Guid, int, string), DateTimeOffset> announced = [];

    // Heartbeats that arrived while this process was down wait in the queue; until it has been up (bus
    // consuming) for three intervals, a server is not judged by a last-seen time that predates it.
    private DateTimeOffset startedAt = DateTimeOffset.MaxValue;
    private bool failing;

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
                failing = false;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogError(ex, "Deadline check failed; trying again at the next tick");
                // While the database was away, heartbeats waited in their queue: once it is back, servers are judged
                // again only after three intervals of heartbeats recorded, as after a start.
                failing = true;
                startedAt = DateTimeOffset.MaxValue;
            }
            if (!failing && startedAt == DateTimeOffset.MaxValue)
            {
                startedAt = time.GetUtcNow();
            }
        }
    }

    public async Task CheckAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var locked = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(hashtext('buildfarm.deadlines'))", connection, transaction))
        {
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!)
            {
                return;
            }
        }

        var lost = new List<(Guid BuildId, int Attempt, string ServerId)>();
        await using (var command = new NpgsqlCommand("""
            WITH gone AS (
                UPDATE build_server SET online = false
                 WHERE online AND GREATEST(last_seen, @started) < @now - heartbeat_interval * 3
                RETURNING server_id)
            SELECT s.correlation_id, (s.data->>'Attempt')::int, s.data->>'ServerId'
              FROM build_state s JOIN gone g ON g.server_id = s.data->>'ServerId'
             WHERE s.current_state IN ('Dispatched', 'Building', 'Cancelling')
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("started", startedAt);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                lost.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));
            }
        }

        var due = new List<(Guid BuildId, int Attempt, string State, DateTimeOffset DeadlineAt)>();
        await using (var command = new NpgsqlCommand("""
            SELECT correlation_id, (data->>'Attempt')::int, current_state, (data->>'DeadlineAt')::timestamptz
              FROM build_state
             WHERE current_state IN ('Dispatched', 'Building', 'Cancelling')
               AND (data->>'DeadlineAt')::timestamptz <= @now
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("now", now);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                due.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
            }
        }
        await transaction.CommitAsync(ct);

        foreach (var (buildId, attempt, serverId) in lost)
        {
            logger.LogWarning("Build server {ServerId} missed three heartbeats: build {BuildId} attempt {Attempt} is lost", serverId, buildId, attempt);
            await bus.Publish(new BuildRunFinished
            {
                BuildId = buildId,
                Attempt = attempt,
                ServerId = serverId,
                Outcome = BuildRunOutcome.InfrastructureFailed,
                Reason = "build server lost",
                FinishedAt = now,
            }, ct);
            // Should the server come back, it stops the orphaned attempt and frees its slot.
            var endpoint = await bus.GetSendEndpoint(StateMachines.BuildStateMachine.WorkerQueue(serverId));
            await endpoint.Send(new StopBuildRun { BuildId = buildId, Attempt = attempt, As = BuildRunOutcome.InfrastructureFailed, Reason = "build server lost" }, ct);
        }

        // A deadline is announced once per (build, attempt, state) and again only if it is still due a while later.
        foreach (var key in announced.Where(a => now - a.Value > options.Value.MonitorInterval * 30).Select(a => a.Key).ToList())
        {
            announced.Remove(key);
        }
        foreach (var (buildId, attempt, state, deadlineAt) in due)
        {
            if (announced.TryAdd((buildId, attempt, state), now))
            {
                await bus.Publish(new BuildDeadlineReached { BuildId = buildId, Attempt = attempt, State = state, DeadlineAt = deadlineAt }, ct);
            }
        }
    }
}
