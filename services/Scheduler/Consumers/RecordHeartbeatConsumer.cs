using BuildFarm.Contracts;
using BuildFarm.Scheduler.Dispatch;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>
/// Keeps the registry of build servers from their heartbeats, and wakes the dispatcher; records when the Scheduler's
/// own probes come through the same queue (see <see cref="BusProbe"/>).
/// </summary>
public sealed class RecordHeartbeatConsumer(NpgsqlDataSource dataSource, DispatchSignal dispatch, TimeProvider time, IOptions<SchedulerOptions> options)
    : IConsumer<BuildServerHeartbeat>, IConsumer<BusProbe>
{
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
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds,
                                      cpu_percent, memory_percent, disk_percent, maintenance, version,
                                      heartbeat_interval, first_seen, last_seen, online,
                                      running_builds, running_attempts, running_seen_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, true, $14, $15, now())
            ON CONFLICT (server_id) DO UPDATE SET
                host = excluded.host, architectures = excluded.architectures, toolchains = excluded.toolchains,
                max_concurrent = excluded.max_concurrent, active_builds = excluded.active_builds,
                cpu_percent = excluded.cpu_percent, memory_percent = excluded.memory_percent,
                disk_percent = excluded.disk_percent, maintenance = excluded.maintenance, version = excluded.version,
                heartbeat_interval = excluded.heartbeat_interval, last_seen = excluded.last_seen, online = true,
                running_builds = excluded.running_builds, running_attempts = excluded.running_attempts,
                running_seen_at = excluded.running_seen_at
            """);
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
        var running = (m.Running ?? []).Where(r => r is not null).Take(4096).ToList();
        command.Parameters.AddWithValue(running.Select(r => r.BuildId).ToArray());
        command.Parameters.AddWithValue(running.Select(r => r.Attempt).ToArray());
        await command.ExecuteNonQueryAsync(context.CancellationToken);
        dispatch.Poke();
    }
}
