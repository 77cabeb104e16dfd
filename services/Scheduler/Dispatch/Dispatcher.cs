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

    /// <summary>The outcome of a pass: how many builds were placed and when a backoff ends next.</summary>
    public sealed record PassResult(int Placed, DateTimeOffset? NextRetryAt);

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
        var snapshot = await FarmSnapshot.LoadAsync(connection, transaction, now, ct);
        var servers = snapshot.Servers.ToDictionary(s => s.ServerId);
        var used = snapshot.Used;
        DateTimeOffset? nextRetry = null;
        var placed = 0;

        foreach (var build in QueueOrder.Order(snapshot.Queue, now, options.Value.AgingStep, snapshot.ServedBySubmitter))
        {
            if (build.RetryAt is { } retryAt && retryAt > now)
            {
                nextRetry = nextRetry is null || retryAt < nextRetry ? retryAt : nextRetry;
                continue;
            }
            var decision = Placement.Choose(build, servers.Values, new FarmCapacity(used, farm.MaxConcurrentBuilds), farm.UtilizationThresholdPercent);
            if (decision.Server is not { } server)
            {
                continue;
            }
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
            servers[server.ServerId] = server with { Assigned = server.Assigned + 1 };
            used++;
            placed++;
            logger.LogInformation("Placed build {BuildId} attempt {Attempt} on {ServerId}", build.BuildId, attempt, server.ServerId);
        }

        await session.CommitAsync(ct);
        Placed.Add(placed);
        PassDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        activity?.SetTag("buildfarm.placed", placed);
        return new PassResult(placed, nextRetry);
    }


    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }
}
