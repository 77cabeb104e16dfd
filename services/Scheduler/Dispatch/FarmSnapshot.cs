using System.Data;
using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Persistence;
using BuildFarm.Scheduler.Data;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// The farm as the Scheduler's database sees it at one moment: build servers with the builds placed on
/// them, and the queue. Used by the dispatcher (inside its locked transaction) and by the status queries.
/// </summary>
public sealed record FarmSnapshot(IReadOnlyList<ServerSnapshot> Servers, IReadOnlyList<QueuedBuild> Queue, int Used)
{
    /// <summary>
    /// Turns each submitter has had while the queue waited: builds on build servers now,
    /// and builds dispatched since the oldest queued build was submitted. See <see cref="QueueOrder"/>.
    /// </summary>
    public IReadOnlyDictionary<string, int> ServedBySubmitter { get; init; } = new Dictionary<string, int>();

    /// <summary>Builds on servers per submitter and per project, for the caps.</summary>
    public (Dictionary<string, int> BySubmitter, Dictionary<string, int> ByProject) Running { get; init; } = ([], []);

    /// <summary>The farm's capacity as <see cref="Placement"/> judges it under <paramref name="settings"/>, with <paramref name="ahead"/> builds placed ahead.</summary>
    public FarmCapacity Capacity(Contracts.FarmSettings settings, int ahead = 0) => new(Used, settings.MaxConcurrentBuilds)
    {
        Ahead = ahead,
        Shares = new ShareCaps(settings.MaxRunningPerSubmitter, settings.MaxRunningPerProject,
            new Dictionary<string, int>(Running.BySubmitter), new Dictionary<string, int>(Running.ByProject)),
    };

    // Declared before the SQL that uses it: static fields are set in the order they are written.
    private static readonly string Queued = BuildStateTable.Literal(BuildStates.Queued);

    /// <summary>
    /// Builds that hold a place on a server: sagas dispatched, building or being cancelled, plus attempts the server says it still runs
    /// although their saga has left them: an attempt declared lost (a Scheduler restarted under load, a
    /// broker outage) goes on until the server stops it, and a new build placed in its slot would put the
    /// server over its capacity. Such an attempt counts while the server's latest heartbeat lists it and the
    /// saga either moved on to a later attempt or has not changed since that heartbeat (a saga that changed
    /// after it, for the same attempt, ended it from the server's own report: the slot is free).
    /// </summary>
    private static readonly string OccupiedSql = $"""
        SELECT server_id FROM build_state
         WHERE current_state IN {BuildStateTable.OnAServer}
        UNION ALL
        SELECT v.server_id
          FROM build_server v
         CROSS JOIN LATERAL unnest(v.running_builds, v.running_attempts) AS r(build_id, attempt)
          JOIN build_state s ON s.correlation_id = r.build_id
         WHERE NOT (s.current_state IN {BuildStateTable.OnAServer} AND s.attempt = r.attempt AND s.server_id = v.server_id)
           AND (s.attempt > r.attempt OR s.updated_at <= v.running_seen_at)
        """;

    /// <summary>The servers, the whole queue and the submitters' turns (for the status queries).</summary>
    public static async Task<FarmSnapshot> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTimeOffset now, CancellationToken ct)
    {
        var (servers, used) = await LoadServersAsync(connection, transaction, now, ct);
        var queue = await ReadQueueAsync(connection, transaction, QueueSql, null, ct);
        var served = await LoadServedAsync(connection, transaction, queue.Count == 0 ? now : queue.Min(b => b.SubmittedAt), ct);
        var running = await LoadRunningAsync(connection, transaction, ct);
        return new FarmSnapshot(servers, queue, used) { ServedBySubmitter = served, Running = running };
    }

    /// <summary>Every build server with the builds placed on it, and how many builds hold a place on the farm.</summary>
    public static async Task<(List<ServerSnapshot> Servers, int Used)> LoadServersAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTimeOffset now, CancellationToken ct)
    {
        var servers = new List<ServerSnapshot>();
        var used = 0;
        await using (var command = new NpgsqlCommand($"""
            WITH occupied AS ({OccupiedSql}),
                 per_server AS (SELECT o.server_id, count(*)::int AS assigned FROM occupied o GROUP BY o.server_id)
            SELECT s.server_id, s.host, s.architectures, s.toolchains, s.max_concurrent, s.cpu_percent,
                   s.memory_percent, s.disk_percent, s.maintenance,
                   s.online AND s.last_seen > @now - s.heartbeat_interval * 3 AS online, s.last_seen,
                   COALESCE(p.assigned, 0) AS assigned,
                   (SELECT COALESCE(sum(assigned), 0) FROM per_server)::int AS used
              FROM build_server s
              LEFT JOIN per_server p ON p.server_id = s.server_id
             ORDER BY s.server_id
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("now", now);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                servers.Add(new ServerSnapshot(
                    reader.GetString("server_id"), reader.GetString("host"),
                    reader.GetFieldValue<string[]>("architectures"), reader.GetFieldValue<string[]>("toolchains"),
                    reader.GetInt32("max_concurrent"), reader.GetFloat("cpu_percent"), reader.GetFloat("memory_percent"), reader.GetFloat("disk_percent"),
                    reader.GetBoolean("maintenance"), reader.GetBoolean("online"), reader.GetFieldValue<DateTimeOffset>("last_seen"), reader.GetInt32("assigned")));
                used = reader.GetInt32("used");
            }
        }
        if (servers.Count == 0)
        {
            await using var command = new NpgsqlCommand($"SELECT count(*)::int FROM ({OccupiedSql}) o", connection, transaction);
            used = (int)(await command.ExecuteScalarAsync(ct))!;
        }
        return (servers, used);
    }

    private const string QueueColumns = """
        s.correlation_id, s.priority, s.submitted_by, s.submitted_at, s.architecture, s.toolchain,
        s.requested_server_id, s.repository, s.retry_at, s.attempt
        """;

    private static readonly string QueueSql = $"""
        SELECT {QueueColumns}
          FROM build_state s
         WHERE s.current_state = {Queued}
        """;

    /// <summary>
    /// The first <c>@per_group</c> queued builds of every (submitter, priority), oldest first: the distinct groups by a
    /// skip scan of the queue index (0009_queue_order.sql), then each group's head through the same index.
    /// </summary>
    private static readonly string QueueHeadSql = $"""
        WITH RECURSIVE grp AS (
            (SELECT s.submitted_by, s.priority FROM build_state s
              WHERE s.current_state = {Queued}
              ORDER BY s.submitted_by, s.priority LIMIT 1)
            UNION ALL
            SELECT n.submitted_by, n.priority
              FROM grp g
             CROSS JOIN LATERAL (SELECT s.submitted_by, s.priority FROM build_state s
                                  WHERE s.current_state = {Queued} AND (s.submitted_by, s.priority) > (g.submitted_by, g.priority)
                                  ORDER BY s.submitted_by, s.priority LIMIT 1) n
        )
        SELECT h.*
          FROM grp g
         CROSS JOIN LATERAL (SELECT {QueueColumns}
                               FROM build_state s
                              WHERE s.current_state = {Queued} AND s.submitted_by = g.submitted_by AND s.priority = g.priority
                              ORDER BY s.submitted_at, s.correlation_id
                              LIMIT @per_group) h
        """;

    /// <summary>
    /// The head of the queue: the first <paramref name="perGroup"/> builds of each (submitter, priority). The first
    /// <paramref name="perGroup"/> builds of <see cref="QueueOrder"/> over it are the first of the whole queue, in the
    /// same order (see <see cref="QueueOrder"/>). <c>Complete</c> when no group had more.
    /// </summary>
    public static async Task<(List<QueuedBuild> Builds, bool Complete)> LoadQueueHeadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, int perGroup, CancellationToken ct)
    {
        var builds = await ReadQueueAsync(connection, transaction, QueueHeadSql, command => command.Parameters.AddWithValue("per_group", perGroup), ct);
        var complete = builds.GroupBy(b => (b.SubmittedBy, b.Priority)).All(g => g.Count() < perGroup);
        return (builds, complete);
    }

    private static async Task<List<QueuedBuild>> ReadQueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        Action<NpgsqlCommand>? parameters, CancellationToken ct)
    {
        var queue = new List<QueuedBuild>();
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        parameters?.Invoke(command);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            BuildPriorities.TryParse(reader.GetString("priority"), out var priority);
            queue.Add(new QueuedBuild(
                reader.GetGuid("correlation_id"), priority, reader.GetString("submitted_by"), reader.GetFieldValue<DateTimeOffset>("submitted_at"),
                reader.GetString("architecture"), reader.GetString("toolchain"), reader.NullableString("requested_server_id"),
                reader.GetString("repository"), reader.NullableValue<DateTimeOffset>("retry_at"), reader.GetInt32("attempt")));
        }
        return queue;
    }

    /// <summary>The turns each submitter has had since <paramref name="since"/> (the oldest queued build's submission).</summary>
    public static async Task<Dictionary<string, int>> LoadServedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        DateTimeOffset since, CancellationToken ct)
    {
        var served = new Dictionary<string, int>();
        // Two disjoint parts, each through an index (a long queue is never scanned): builds dispatched since @since (an
        // index-only scan of build_state_dispatched), and builds on servers dispatched before.
        await using var command = new NpgsqlCommand($"""
            SELECT submitted_by, count(*)::int AS served FROM (
                SELECT s.submitted_by FROM build_state s WHERE s.dispatched_at >= @since
                UNION ALL
                SELECT s.submitted_by FROM build_state s
                 WHERE s.current_state IN {BuildStateTable.OnAServer} AND (s.dispatched_at IS NULL OR s.dispatched_at < @since)
            ) turns
             GROUP BY 1
            """, connection, transaction);
        command.Parameters.AddWithValue("since", since);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            served[reader.GetString("submitted_by")] = reader.GetInt32("served");
        }
        return served;
    }

    /// <summary>Builds on servers, per submitter and per project (source repository).</summary>
    public static async Task<(Dictionary<string, int> BySubmitter, Dictionary<string, int> ByProject)> LoadRunningAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        var bySubmitter = new Dictionary<string, int>();
        var byProject = new Dictionary<string, int>();
        await using var command = new NpgsqlCommand($"""
            SELECT s.submitted_by, s.repository FROM build_state s WHERE s.current_state IN {BuildStateTable.OnAServer}
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var who = reader.GetString("submitted_by");
            var project = reader.GetString("repository");
            bySubmitter[who] = bySubmitter.GetValueOrDefault(who) + 1;
            byProject[project] = byProject.GetValueOrDefault(project) + 1;
        }
        return (bySubmitter, byProject);
    }

    /// <summary>
    /// Whether any queued build, out of its backoff and not among <paramref name="except"/> (those a pass has already
    /// decided on), needs only what a server in <paramref name="open"/> (servers with a free slot) offers: one look-up
    /// per (architecture, toolchain) through <c>build_state_queue_target</c>. True may be too hopeful (the pair from two
    /// servers); false is certain, and the pass then reads no (more) queue.
    /// </summary>
    public static async Task<bool> AnyPlaceableAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyCollection<ServerSnapshot> open, DateTimeOffset now, CancellationToken ct, IReadOnlyCollection<Guid>? except = null)
    {
        if (open.Count == 0)
        {
            return false;
        }
        await using var command = new NpgsqlCommand($"""
            SELECT EXISTS (
                SELECT 1 FROM build_state s
                 WHERE s.current_state = {Queued}
                   AND s.architecture = ANY(@architectures) AND s.toolchain = ANY(@toolchains)
                   AND (s.requested_server_id IS NULL OR s.requested_server_id = ANY(@servers))
                   AND (s.retry_at IS NULL OR s.retry_at <= @now)
                   AND NOT (s.correlation_id = ANY(@except)))
            """, connection, transaction);
        command.Parameters.AddWithValue("architectures", open.SelectMany(s => s.Architectures).Distinct(StringComparer.Ordinal).ToArray());
        command.Parameters.AddWithValue("toolchains", open.SelectMany(s => s.Toolchains).Distinct(StringComparer.Ordinal).ToArray());
        command.Parameters.AddWithValue("servers", open.Select(s => s.ServerId).ToArray());
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("except", except?.ToArray() ?? []);
        return await command.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>When the next retry backoff of a queued build ends after <paramref name="now"/>, if any does.</summary>
    public static async Task<DateTimeOffset?> NextRetryAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT min(s.retry_at) FROM build_state s WHERE s.current_state = {Queued} AND s.retry_at > @now", connection, transaction);
        command.Parameters.AddWithValue("now", now);
        return await command.ExecuteScalarAsync(ct) is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }
}
