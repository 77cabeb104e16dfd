using System.Data;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Scheduler.Data;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>
/// Keeps the registry of build servers from their heartbeats, and wakes the dispatcher. A heartbeat from a new process
/// of a server (a Worker restarted, say after SIGKILL, before it missed three heartbeats) declares lost, at once, the
/// attempts an earlier process of that server took and the new one does not run: each is reported as the lost-server
/// path reports it (<see cref="BuildRunFinished"/> InfrastructureFailed, "build server restarted", so the saga retries it
/// as a new attempt) and stopped on the server. The registry's write and those messages commit in one transaction
/// (the outbox): nothing is announced that was not recorded, and the reverse. A build only Dispatched (its
/// <see cref="DispatchBuild"/> still in the server's queue, which the new process consumes) is not lost.
/// Also records when the Scheduler's own probes come through the same queue (see <see cref="BusProbe"/>).
/// </summary>
public sealed class RecordHeartbeatConsumer(
    PostgresOutbox outbox, NpgsqlDataSource dataSource, DispatchSignal dispatch, FarmSettingsCache settings, TimeProvider time,
    IOptions<SchedulerOptions> options,
    ILogger<RecordHeartbeatConsumer> logger)
    : IConsumer<BuildServerHeartbeat>, IConsumer<BusProbe>
{
    /// <summary>The Reason of a <see cref="BuildRunFinished"/> for an attempt of a server's earlier process.</summary>
    public const string RestartedReason = "build server restarted";

    private const int RetiredKept = 16;

    /// <summary>The queue the probes measure, as named in <c>bus_probe</c>.</summary>
    public const string Queue = "record-heartbeat";

    /// <summary>A pause in probe consumption longer than this starts a new stretch of flow (see <see cref="Monitoring.DeadlineMonitor"/>).</summary>
    public static TimeSpan ProbeGap(SchedulerOptions options) => options.MonitorInterval * 5;

    public async Task Consume(ConsumeContext<BusProbe> context)
    {
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            INSERT INTO bus_probe (queue, flowing_since, last_consumed_at) VALUES ($1, $2, $2)
            ON CONFLICT (queue) DO UPDATE SET
                flowing_since = CASE WHEN bus_probe.last_consumed_at < $2 - $3 THEN $2 ELSE bus_probe.flowing_since END,
                last_consumed_at = GREATEST(bus_probe.last_consumed_at, $2)
            """);
        command.Parameters.AddWithValue(Queue);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(ProbeGap(options.Value));
        await command.ExecuteNonQueryAsync(context.CancellationToken);
    }

    public async Task Consume(ConsumeContext<BuildServerHeartbeat> context)
    {
        var m = context.Message;
        if (!Domain.ServerIds.IsValid(m.ServerId))
        {
            return;
        }
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        var running = (m.Running ?? []).Where(r => r is not null).Take(4096).ToList();
        await outbox.BeginAsync(ct);

        var known = false;
        Guid? previous = null;
        Guid[] retired = [];
        var changes = true;
        await using (var command = outbox.Session.CreateCommand("""
            SELECT instance_id, retired_instances, architectures, toolchains, max_concurrent, maintenance,
                   cpu_percent, memory_percent, disk_percent, running_builds, running_attempts,
                   online AND last_seen > $2 - heartbeat_interval * 3 AS online
              FROM build_server WHERE server_id = $1 FOR UPDATE
            """))
        {
            command.Parameters.AddWithValue(m.ServerId);
            command.Parameters.AddWithValue(now);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                known = true;
                previous = reader.NullableValue<Guid>("instance_id");
                retired = reader.GetFieldValue<Guid[]>("retired_instances");
                changes = ChangesDispatch(m, running, reader, settings.Current.UtilizationThresholdPercent);
            }
        }
        if (m.InstanceId is { } late && retired.Contains(late))
        {
            logger.LogInformation("Ignored a late heartbeat of an earlier process {Instance} of build server {ServerId}", late, m.ServerId);
            await outbox.RollbackAsync();
            return;
        }
        var replaced = known && previous != m.InstanceId;
        if (replaced && previous is { } old)
        {
            retired = [.. retired.Append(old).TakeLast(RetiredKept)];
        }

        await using (var command = outbox.Session.CreateCommand("""
            INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds,
                                      cpu_percent, memory_percent, disk_percent, maintenance, version,
                                      heartbeat_interval, first_seen, last_seen, online,
                                      running_builds, running_attempts, running_seen_at, instance_id, retired_instances)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, true, $14, $15, now(), $16, $17)
            ON CONFLICT (server_id) DO UPDATE SET
                host = excluded.host, architectures = excluded.architectures, toolchains = excluded.toolchains,
                max_concurrent = excluded.max_concurrent, active_builds = excluded.active_builds,
                cpu_percent = excluded.cpu_percent, memory_percent = excluded.memory_percent,
                disk_percent = excluded.disk_percent, maintenance = excluded.maintenance, version = excluded.version,
                heartbeat_interval = excluded.heartbeat_interval, last_seen = excluded.last_seen, online = true,
                running_builds = excluded.running_builds, running_attempts = excluded.running_attempts,
                running_seen_at = excluded.running_seen_at, instance_id = excluded.instance_id,
                retired_instances = excluded.retired_instances
            """))
        {
            command.Parameters.AddWithValue(m.ServerId);
            command.Parameters.AddWithValue(m.Host);
            command.Parameters.AddWithValue(m.Architectures.ToArray());
            command.Parameters.AddWithValue(m.Toolchains.ToArray());
            command.Parameters.AddWithValue(Math.Max(0, m.MaxConcurrentBuilds));
            command.Parameters.AddWithValue(Math.Max(0, m.ActiveBuilds));
            command.Parameters.AddWithValue((float)m.CpuPercent);
            command.Parameters.AddWithValue((float)m.MemoryPercent);
            command.Parameters.AddWithValue((float)m.DiskPercent);
            command.Parameters.AddWithValue(m.Maintenance);
            command.Parameters.AddWithValue(m.Version);
            command.Parameters.AddWithValue(m.Interval > TimeSpan.Zero ? m.Interval : TimeSpan.FromSeconds(5));
            command.Parameters.AddWithValue(now);
            command.Parameters.AddWithValue(running.Select(r => r.BuildId).ToArray());
            command.Parameters.AddWithValue(running.Select(r => r.Attempt).ToArray());
            command.Parameters.Add(new NpgsqlParameter { Value = m.InstanceId is { } id ? id : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            command.Parameters.AddWithValue(retired);
            await command.ExecuteNonQueryAsync(ct);
        }

        var lost = m.InstanceId is { } instance ? await LostAttemptsAsync(m.ServerId, instance, replaced, running, ct) : [];
        foreach (var (buildId, attempt) in lost)
        {
            logger.LogWarning("Build server {ServerId} restarted (process {Instance}): build {BuildId} attempt {Attempt} is lost",
                m.ServerId, m.InstanceId, buildId, attempt);
            await outbox.PublishAsync(new BuildRunFinished
            {
                BuildId = buildId,
                Attempt = attempt,
                ServerId = m.ServerId,
                Outcome = BuildRunOutcome.InfrastructureFailed,
                Reason = RestartedReason,
                FinishedAt = now,
            }, ct);
            // Should the new process have taken the attempt after all (a dispatch redelivered to it), it stops it.
            await outbox.SendAsync(StateMachines.BuildStateMachine.WorkerQueue(m.ServerId),
                new StopBuildRun { BuildId = buildId, Attempt = attempt, As = BuildRunOutcome.InfrastructureFailed, Reason = RestartedReason }, ct);
        }
        await outbox.CommitAsync(ct);
        if (changes || replaced || lost.Count > 0)
        {
            dispatch.Poke();
        }
    }

    /// <summary>
    /// Whether this heartbeat can let the dispatcher place a build it could not place before, or must stop it placing
    /// one: the server came (back) online, its architectures, toolchains, capacity or maintenance changed, one of its
    /// CPU, memory and disk crossed the utilisation threshold, or the attempts it runs changed (a lost attempt it stops
    /// running frees its slot). A heartbeat that only repeats what the registry knows wakes nobody: 200 servers
    /// heartbeating every 5 s cost 40 row updates a second, not 40 dispatch passes.
    /// </summary>
    private static bool ChangesDispatch(BuildServerHeartbeat m, List<RunningAttempt> running, NpgsqlDataReader old, int thresholdPercent)
    {
        static bool Over(double percent, int threshold) => threshold < 100 && percent >= threshold;
        var oldRunning = old.GetFieldValue<Guid[]>("running_builds").Zip(old.GetFieldValue<int[]>("running_attempts")).ToHashSet();
        return !old.GetBoolean("online")
            || old.GetBoolean("maintenance") != m.Maintenance
            || old.GetInt32("max_concurrent") != Math.Max(0, m.MaxConcurrentBuilds)
            || !old.GetFieldValue<string[]>("architectures").ToHashSet().SetEquals(m.Architectures)
            || !old.GetFieldValue<string[]>("toolchains").ToHashSet().SetEquals(m.Toolchains)
            || Over(old.GetFloat("cpu_percent"), thresholdPercent) != Over((float)m.CpuPercent, thresholdPercent)
            || Over(old.GetFloat("memory_percent"), thresholdPercent) != Over((float)m.MemoryPercent, thresholdPercent)
            || Over(old.GetFloat("disk_percent"), thresholdPercent) != Over((float)m.DiskPercent, thresholdPercent)
            || !oldRunning.SetEquals(running.Select(r => (r.BuildId, r.Attempt)));
    }

    /// <summary>
    /// Attempts on this server that an earlier process took (the saga names another instance) or, for attempts whose
    /// saga names none (started by a Worker that did not report its instance), that were building when the process
    /// changed with this heartbeat; never one the heartbeat lists as running.
    /// </summary>
    private async Task<List<(Guid BuildId, int Attempt)>> LostAttemptsAsync(
        string serverId, Guid instance, bool replaced, List<RunningAttempt> running, CancellationToken ct)
    {
        var lost = new List<(Guid, int)>();
        await using var command = outbox.Session.CreateCommand($"""
            SELECT s.correlation_id, s.attempt
              FROM build_state s
             WHERE s.current_state IN {BuildStateTable.OnAServer}
               AND s.server_id = $1
               AND (   s.worker_instance IS NOT NULL AND s.worker_instance <> $2
                    OR $3 AND s.worker_instance IS NULL
                          AND s.current_state IN ({BuildStateTable.Literal(BuildStates.Building)}, {BuildStateTable.Literal(BuildStates.Cancelling)}))
               AND NOT EXISTS (SELECT 1 FROM unnest($4::uuid[], $5::int[]) AS r(build_id, attempt)
                                WHERE r.build_id = s.correlation_id AND r.attempt = s.attempt)
            """);
        command.Parameters.AddWithValue(serverId);
        command.Parameters.AddWithValue(instance);
        command.Parameters.AddWithValue(replaced);
        command.Parameters.AddWithValue(running.Select(r => r.BuildId).ToArray());
        command.Parameters.AddWithValue(running.Select(r => r.Attempt).ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            lost.Add((reader.GetGuid("correlation_id"), reader.GetInt32("attempt")));
        }
        return lost;
    }
}
