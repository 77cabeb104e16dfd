using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Status;

/// <summary>Answers "where is my build" and "how is the queue" from one consistent read of the database.</summary>
public sealed class StatusReader(NpgsqlDataSource dataSource, FarmSettingsCache settings, IOptions<SchedulerOptions> options, TimeProvider time)
{
    public async Task<BuildStatusReport> BuildAsync(Guid buildId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var now = time.GetUtcNow();

        string state;
        BuildStateRow row;
        await using (var command = new NpgsqlCommand("""
            SELECT current_state, (data->>'Attempt')::int, data->>'ServerId', data->>'Reason',
                   COALESCE((data->>'StartedAt')::timestamptz, (data->>'DispatchedAt')::timestamptz),
                   data->>'SourceRepository', data->>'TargetArchitecture', data->>'Toolchain'
              FROM build_state WHERE correlation_id = @id
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("id", buildId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new BuildStatusReport { BuildId = buildId, Found = false, At = now };
            }
            state = reader.GetString(0);
            row = new BuildStateRow(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetString(6), reader.GetString(7));
        }

        var durations = await DurationsAsync(connection, transaction, ct);
        var report = new BuildStatusReport { BuildId = buildId, Found = true, State = state, Attempt = row.Attempt, ServerId = row.ServerId, At = now };
        if (state is "Dispatched" or "Building" or "Cancelling")
        {
            var (expected, basis) = durations.Expected(row.Repository, row.Architecture, row.Toolchain);
            return report with
            {
                EstimatedDuration = expected,
                EstimateBasis = basis,
                EstimatedFinishAt = row.Since is { } since ? Later(since + expected, now) : null,
            };
        }
        if (state != "Queued")
        {
            return report;
        }

        var snapshot = await FarmSnapshot.LoadAsync(connection, transaction, now, ct);
        var build = snapshot.Queue.FirstOrDefault(b => b.BuildId == buildId);
        if (build is null)
        {
            // Placed on a server a moment ago; the saga has not taken the placement up yet.
            return report with { WhyWaiting = "being dispatched", QueuePosition = 0 };
        }
        var running = await RunningAsync(connection, transaction, ct);
        var estimator = new QueueEstimator(snapshot, running, durations, settings.Current, options.Value.AgingStep, now);
        return estimator.Queued(build, row.Reason) with { Attempt = row.Attempt };
    }

    public async Task<QueueStatusReport> QueueAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var now = time.GetUtcNow();
        var snapshot = await FarmSnapshot.LoadAsync(connection, transaction, now, ct);
        var running = await RunningAsync(connection, transaction, ct);
        var durations = await DurationsAsync(connection, transaction, ct);
        var estimator = new QueueEstimator(snapshot, running, durations, settings.Current, options.Value.AgingStep, now);
        var architectures = snapshot.Servers.Where(s => s.Online).SelectMany(s => s.Architectures).Distinct().Order(StringComparer.Ordinal);
        return new QueueStatusReport
        {
            Queued = snapshot.Queue.Count,
            Building = running.Count,
            FarmLimit = settings.Current.MaxConcurrentBuilds,
            QueuedByArchitecture = snapshot.Queue.GroupBy(b => b.TargetArchitecture).ToDictionary(g => g.Key, g => g.Count()),
            BuildingByArchitecture = running.GroupBy(b => b.TargetArchitecture).ToDictionary(g => g.Key, g => g.Count()),
            QueuedByPriority = Enum.GetValues<BuildPriority>().ToDictionary(p => p.ToName(), p => snapshot.Queue.Count(b => b.Priority == p)),
            EstimatedWait = [.. architectures.Select(estimator.NewBuildWait)],
            At = now,
        };
    }

    private async Task<DurationModel> DurationsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var history = new List<(string, string, string, TimeSpan)>();
        await using var command = new NpgsqlCommand("""
            SELECT data->>'SourceRepository', data->>'TargetArchitecture', data->>'Toolchain', (data->>'Duration')::interval
              FROM build_state
             WHERE current_state = 'Completed' AND data->>'Duration' IS NOT NULL AND updated_at > now() - interval '30 days'
             ORDER BY updated_at DESC
             LIMIT 5000
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            history.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetTimeSpan(3)));
        }
        return new DurationModel(history, options.Value.DefaultBuildDuration);
    }

    private static async Task<List<RunningBuild>> RunningAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var running = new List<RunningBuild>();
        await using var command = new NpgsqlCommand("""
            SELECT correlation_id, data->>'ServerId',
                   COALESCE((data->>'StartedAt')::timestamptz, (data->>'DispatchedAt')::timestamptz),
                   data->>'SourceRepository', data->>'TargetArchitecture', data->>'Toolchain', data->>'Priority'
              FROM build_state WHERE current_state IN ('Dispatched', 'Building', 'Cancelling')
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            running.Add(new RunningBuild(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        }
        return running;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record BuildStateRow(int Attempt, string? ServerId, string? Reason, DateTimeOffset? Since,
        string Repository, string Architecture, string Toolchain);
}
