using System.Data;
using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Persistence;
using BuildFarm.Scheduler.Data;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Status;

/// <summary>Answers "where is my build" and "how is the queue" from one consistent read of the database.</summary>
public sealed class StatusReader(NpgsqlDataSource dataSource, FarmSettingsCache settings, IOptions<SchedulerOptions> options, TimeProvider time)
{
    private readonly Lock gate = new();
    private QueueView? view;
    private Task<QueueView>? reading;

    public async Task<BuildStatusReport> BuildAsync(Guid buildId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var now = time.GetUtcNow();

        string state;
        BuildStateRow row;
        await using (var command = new NpgsqlCommand("""
            SELECT current_state, attempt, server_id, reason, COALESCE(started_at, dispatched_at) AS since,
                   repository, architecture, toolchain
              FROM build_state WHERE correlation_id = @id
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("id", buildId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new BuildStatusReport { BuildId = buildId, Found = false, At = now };
            }
            state = reader.GetString("current_state");
            row = new BuildStateRow(reader.GetInt32("attempt"), reader.NullableString("server_id"), reader.NullableString("reason"),
                reader.NullableValue<DateTimeOffset>("since"), reader.GetString("repository"), reader.GetString("architecture"), reader.GetString("toolchain"));
        }

        var report = new BuildStatusReport { BuildId = buildId, Found = true, State = state, Attempt = row.Attempt, ServerId = row.ServerId, At = now };
        if (BuildStates.OnAServer.Contains(state))
        {
            var durations = await DurationsAsync(connection, transaction, ct);
            var (expected, basis) = durations.Expected(row.Repository, row.Architecture, row.Toolchain);
            return report with
            {
                EstimatedDuration = expected,
                EstimateBasis = basis,
                EstimatedFinishAt = row.Since is { } since ? Later(since + expected, now) : null,
            };
        }
        if (state != BuildStates.Queued)
        {
            return report;
        }

        await transaction.CommitAsync(ct);
        var view = await ViewAsync(now, ct);
        if (view.Find(buildId) is not { } build)
        {
            // Placed on a server a moment ago (the saga has not taken the placement up yet), or queued after the view.
            return view.Queued < options.Value.StatusViewExactBelow
                ? report with { WhyWaiting = "being dispatched", QueuePosition = 0 }
                : report with { WhyWaiting = $"being dispatched, or queued after the last look at the long queue ({view.At:HH:mm:ss.fff} UTC)" };
        }
        return view.Estimator.Queued(build, row.Reason) with { Attempt = row.Attempt, At = view.At };
    }

    public async Task<QueueStatusReport> QueueAsync(CancellationToken ct) => (await ViewAsync(time.GetUtcNow(), ct)).Report.Value;

    /// <summary>
    /// The queue as one consistent read saw it. A queue of up to <see cref="SchedulerOptions.StatusViewExactBelow"/> builds is
    /// read again for every question (it costs a few milliseconds); a longer one is read at most once per
    /// <see cref="MaxAge"/>: a question meanwhile gets the last view (its time is the report's
    /// At) while a new one is read, so no question waits for reading 100,000 queued builds but the first.
    /// </summary>
    private async Task<QueueView> ViewAsync(DateTimeOffset now, CancellationToken ct)
    {
        Task<QueueView> loading;
        lock (gate)
        {
            if (view is { } current && current.Queued >= options.Value.StatusViewExactBelow && now - current.At < MaxAge(current))
            {
                return current;
            }
            // On the thread pool, never inline: a read that completed at once (a fast local database) would run its
            // finally, which clears `reading`, before this assignment, and leave a finished read here for good.
            loading = reading ??= Task.Run(ReadViewAsync);
            if (view is { } stale && stale.Queued >= options.Value.StatusViewExactBelow)
            {
                return stale;
            }
        }
        return await loading.WaitAsync(ct);
    }

    /// <summary>
    /// How long a view serves: <see cref="SchedulerOptions.StatusViewMaxAge"/>, or ten times what reading it took, whichever
    /// is longer, so reading a long queue never takes more than a tenth of a core (at 100,000 queued a read took some
    /// 300 ms, and reading it every second slowed every other answer of the Scheduler on 2 cores).
    /// </summary>
    private TimeSpan MaxAge(QueueView current) => TimeSpan.FromTicks(Math.Max(options.Value.StatusViewMaxAge.Ticks, current.Took.Ticks * 10));

    private async Task<QueueView> ReadViewAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            var now = time.GetUtcNow();
            var snapshot = await FarmSnapshot.LoadAsync(connection, transaction, now, CancellationToken.None);
            var running = await RunningAsync(connection, transaction, CancellationToken.None);
            var durations = await DurationsAsync(connection, transaction, CancellationToken.None);
            var farm = settings.Current;
            // One estimator for the builds' questions and the queue's report: the queue is ordered once per read.
            var estimator = new QueueEstimator(snapshot, running, durations, farm, options.Value.AgingStep, now,
                options.Value.ReadyAhead(farm.MaxConcurrentBuilds));
            var read = new QueueView(now, snapshot, estimator, new Lazy<QueueStatusReport>(() => QueueReport(snapshot, running, estimator, farm, now)))
            {
                Took = System.Diagnostics.Stopwatch.GetElapsedTime(started),
            };
            lock (gate)
            {
                view = read;
            }
            return read;
        }
        finally
        {
            lock (gate)
            {
                reading = null;
            }
        }
    }

    private static QueueStatusReport QueueReport(FarmSnapshot snapshot, List<RunningBuild> running, QueueEstimator estimator, FarmSettings farm, DateTimeOffset now)
    {
        var architectures = snapshot.Servers.Where(s => s.Online).SelectMany(s => s.Architectures).Distinct().Order(StringComparer.Ordinal);
        return new QueueStatusReport
        {
            Queued = snapshot.Queue.Count,
            Building = running.Count,
            FarmLimit = farm.MaxConcurrentBuilds,
            QueuedByArchitecture = snapshot.Queue.GroupBy(b => b.TargetArchitecture).ToDictionary(g => g.Key, g => g.Count()),
            BuildingByArchitecture = running.GroupBy(b => b.TargetArchitecture).ToDictionary(g => g.Key, g => g.Count()),
            QueuedByPriority = Enum.GetValues<BuildPriority>().ToDictionary(p => p.ToName(), p => snapshot.Queue.Count(b => b.Priority == p)),
            EstimatedWait = [.. architectures.Select(estimator.NewBuildWait)],
            At = now,
        };
    }

    private sealed class QueueView(DateTimeOffset at, FarmSnapshot snapshot, QueueEstimator estimator, Lazy<QueueStatusReport> report)
    {
        private readonly Dictionary<Guid, QueuedBuild> byId = snapshot.Queue.ToDictionary(b => b.BuildId);

        public DateTimeOffset At => at;

        /// <summary>How long reading the queue and ordering it took (real time).</summary>
        public TimeSpan Took { get; init; }

        public int Queued => snapshot.Queue.Count;

        public QueueEstimator Estimator => estimator;

        public Lazy<QueueStatusReport> Report => report;

        public QueuedBuild? Find(Guid id) => byId.GetValueOrDefault(id);
    }

    private async Task<DurationModel> DurationsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var history = new List<(string, string, string, TimeSpan)>();
        await using var command = new NpgsqlCommand($"""
            SELECT repository, architecture, toolchain, duration
              FROM build_state
             WHERE current_state = {BuildStateTable.Literal(BuildStates.Completed)} AND duration IS NOT NULL AND updated_at > now() - interval '30 days'
             ORDER BY updated_at DESC
             LIMIT 5000
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            history.Add((reader.GetString("repository"), reader.GetString("architecture"), reader.GetString("toolchain"), reader.GetFieldValue<TimeSpan>("duration")));
        }
        return new DurationModel(history, options.Value.DefaultBuildDuration);
    }

    private static async Task<List<RunningBuild>> RunningAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var running = new List<RunningBuild>();
        await using var command = new NpgsqlCommand($"""
            SELECT correlation_id, server_id, COALESCE(started_at, dispatched_at) AS since, repository, architecture, toolchain, priority
              FROM build_state WHERE current_state IN {BuildStateTable.OnAServer}
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            running.Add(new RunningBuild(reader.GetGuid("correlation_id"), reader.GetString("server_id"), reader.GetFieldValue<DateTimeOffset>("since"),
                reader.GetString("repository"), reader.GetString("architecture"), reader.GetString("toolchain"), reader.GetString("priority")));
        }
        return running;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record BuildStateRow(int Attempt, string? ServerId, string? Reason, DateTimeOffset? Since,
        string Repository, string Architecture, string Toolchain);
}
