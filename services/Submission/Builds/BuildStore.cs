using System.Data;
using System.Text;
using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>Reads builds and logs from the farm's database, and records submissions with their BuildRequested.</summary>
public sealed class BuildStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// A build as the farm knows it: the Scheduler's read model (<c>build_view</c>, whose shape its migration documents),
    /// and the request accepted over HTTP (which the Scheduler may not have taken up yet, or refused).
    /// </summary>
    private const string Columns = """
        SELECT COALESCE(v.build_id, r.build_id) AS id,
               COALESCE(v.state, CASE WHEN r.rejected_reason IS NULL THEN 'Queued' ELSE 'Rejected' END) AS state,
               COALESCE(v.submitted_at, r.submitted_at) AS submitted_at,
               COALESCE(v.architecture, r.request->>'targetArchitecture') AS architecture,
               v.server_id AS server,
               COALESCE(v.repository, r.request->>'sourceRepository') AS repository,
               COALESCE(v.submitted_by, r.submitted_by) AS submitter,
               COALESCE(v.priority, lower(COALESCE(r.request->>'priority', 'normal'))) AS priority,
               v.build_id IS NOT NULL AS taken_up, v.branch, v.commit_hash, v.spec_path, v.toolchain, v.requested_server_id,
               v.started_at, v.finished_at, v.attempt, v.reason, v.exit_code, v.duration, v.artifacts, v.history,
               r.request, r.rejected_reason, c.cleaned_at
        """;

    /// <summary>Every build, for listing and filtering.</summary>
    private const string AllBuilds = Columns + """
          FROM build_view v FULL OUTER JOIN build_request r ON r.build_id = v.build_id
          LEFT JOIN build_cleanup c ON c.build_id = COALESCE(v.build_id, r.build_id)
        """;

    /// <summary>One build ($1), looked up by its keys: a filter on the full join above would read both tables whole.</summary>
    private const string OneBuild = Columns + """
          FROM (SELECT $1::uuid AS id) k
          LEFT JOIN build_view v ON v.build_id = k.id
          LEFT JOIN build_request r ON r.build_id = k.id
          LEFT JOIN build_cleanup c ON c.build_id = k.id
         WHERE v.build_id IS NOT NULL OR r.build_id IS NOT NULL
        """;

    /// <summary>
    /// Stores the request and publishes <see cref="BuildRequested"/> in one transaction. With an idempotency
    /// key already used by the same submitter, nothing is written and the earlier build's id is returned.
    /// </summary>
    public async Task<(Guid BuildId, bool Created)> SubmitAsync(PostgresOutbox outbox, BuildRequested request, string? idempotencyKey, CancellationToken ct)
    {
        await outbox.BeginAsync(ct);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO build_request (build_id, request, submitted_by, submitted_at, idempotency_key)
            VALUES (@id, @request, @by, @at, @key)
            ON CONFLICT DO NOTHING
            """, outbox.Connection, outbox.Transaction))
        {
            insert.Parameters.AddWithValue("id", request.BuildId);
            insert.Parameters.Add(new NpgsqlParameter("request", NpgsqlTypes.NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(request, Json) });
            insert.Parameters.AddWithValue("by", request.SubmittedBy ?? "anonymous");
            insert.Parameters.AddWithValue("at", request.SubmittedAt ?? DateTimeOffset.UtcNow);
            insert.Parameters.AddWithValue("key", (object?)idempotencyKey ?? DBNull.Value);
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                await outbox.RollbackAsync();
                return ((await FindByIdempotencyKeyAsync(request.SubmittedBy ?? "anonymous", idempotencyKey!, ct))!.Value, false);
            }
        }
        await outbox.PublishAsync(request, ct);
        await outbox.CommitAsync(ct);
        return (request.BuildId, true);
    }

    /// <summary>The build <paramref name="submittedBy"/> submitted with idempotency key <paramref name="key"/>, if any.</summary>
    public async Task<Guid?> FindByIdempotencyKeyAsync(string submittedBy, string key, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT build_id FROM build_request WHERE submitted_by = $1 AND idempotency_key = $2");
        command.Parameters.AddWithValue(submittedBy);
        command.Parameters.AddWithValue(key);
        return (Guid?)await command.ExecuteScalarAsync(ct);
    }

    /// <summary>Builds waiting for a server, those accepted here but not yet taken up by the Scheduler included.</summary>
    public async Task<long> CountQueuedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM build_view WHERE state = $1)
                 + (SELECT count(*) FROM build_request r
                     WHERE r.rejected_reason IS NULL AND r.submitted_at > now() - interval '1 hour'
                       AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id))
            """);
        command.Parameters.AddWithValue(BuildStates.Queued);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<BuildRecord?> FindAsync(Guid buildId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(OneBuild);
        command.Parameters.AddWithValue(buildId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>One page of builds, newest first, and the cursor of the next page (null on the last).</summary>
    public async Task<(IReadOnlyList<BuildRecord> Builds, BuildCursor? Next)> ListAsync(BuildQuery q, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT * FROM ({AllBuilds}) b
             WHERE ($1::text IS NULL OR b.state = $1)
               AND ($2::text IS NULL OR b.architecture = $2)
               AND ($3::text IS NULL OR b.server = $3)
               AND ($4::text IS NULL OR b.repository = $4)
               AND ($5::text IS NULL OR b.submitter = $5)
               AND ($6::text IS NULL OR b.priority = $6)
               AND ($7::timestamptz IS NULL OR b.submitted_at >= $7)
               AND ($8::timestamptz IS NULL OR b.submitted_at < $8)
               AND ($9::timestamptz IS NULL OR (b.submitted_at, b.id) < ($9, $10::uuid))
             ORDER BY b.submitted_at DESC, b.id DESC
             LIMIT $11
            """);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.State ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.Architecture ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.Server ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.Repository ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.Submitter ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)q.Priority?.ToLowerInvariant() ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)q.From ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)q.To ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)q.After?.SubmittedAt ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Uuid, (object?)q.After?.Id ?? DBNull.Value);
        command.Parameters.AddWithValue(q.Limit + 1);
        var builds = new List<BuildRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            builds.Add(Read(reader));
        }
        if (builds.Count <= q.Limit)
        {
            return (builds, null);
        }
        builds.RemoveAt(q.Limit);
        var last = builds[^1];
        return (builds, new BuildCursor(last.SubmittedAt, last.CorrelationId));
    }

    private static BuildRecord Read(NpgsqlDataReader reader)
    {
        var id = reader.GetGuid("id");
        var state = reader.GetString("state");
        var submittedAt = reader.GetFieldValue<DateTimeOffset>("submitted_at");
        var cleanedAt = reader.NullableValue<DateTimeOffset>("cleaned_at");
        if (reader.GetBoolean("taken_up"))
        {
            return new BuildRecord
            {
                CorrelationId = id,
                CurrentState = state,
                SourceRepository = reader.GetString("repository"),
                Branch = reader.NullableString("branch") ?? "",
                CommitHash = reader.NullableString("commit_hash") ?? "",
                TargetArchitecture = reader.GetString("architecture"),
                Toolchain = reader.GetString("toolchain"),
                SpecPath = reader.NullableString("spec_path"),
                Priority = reader.GetString("priority"),
                RequestedServerId = reader.NullableString("requested_server_id"),
                SubmittedBy = reader.GetString("submitter"),
                SubmittedAt = submittedAt,
                StartedAt = reader.NullableValue<DateTimeOffset>("started_at"),
                FinishedAt = reader.NullableValue<DateTimeOffset>("finished_at"),
                Attempt = reader.GetInt32("attempt"),
                ServerId = reader.NullableString("server"),
                Reason = reader.NullableString("reason"),
                ExitCode = reader.NullableValue<int>("exit_code"),
                Duration = reader.NullableValue<TimeSpan>("duration"),
                Artifacts = JsonSerializer.Deserialize<List<Artifact>>(reader.GetString("artifacts"), Json)!,
                History = JsonSerializer.Deserialize<List<HistoryEntry>>(reader.GetString("history"), Json)!,
                CleanedAt = cleanedAt,
            };
        }
        var request = JsonSerializer.Deserialize<BuildRequested>(reader.GetString("request"), Json)!;
        return new BuildRecord
        {
            CorrelationId = id,
            CurrentState = state,
            SourceRepository = request.SourceRepository ?? "",
            Branch = request.Branch ?? "",
            CommitHash = request.CommitHash ?? "",
            TargetArchitecture = request.TargetArchitecture ?? "",
            Toolchain = request.Toolchain ?? "",
            SpecPath = request.SpecPath,
            Priority = (request.Priority ?? "normal").ToLowerInvariant(),
            RequestedServerId = Domain.ServerIds.Normalise(request.ServerId),
            SubmittedBy = request.SubmittedBy ?? "anonymous",
            SubmittedAt = submittedAt,
            Reason = reader.NullableString("rejected_reason"),
            CleanedAt = cleanedAt,
        };
    }

    /// <summary>Marks an HTTP-accepted request the Scheduler refused.</summary>
    public async Task RecordRejectionAsync(BuildRejected rejected, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("UPDATE build_request SET rejected_reason = $2 WHERE build_id = $1");
        command.Parameters.AddWithValue(rejected.BuildId);
        command.Parameters.AddWithValue(string.Join("; ", rejected.Errors.Select(e => $"{e.Field}: {e.Message}")));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Rows and bytes (plus one row) a log read takes from the database per query; it holds no connection between pages.</summary>
    public const int LogPageRows = 64;
    public const int LogPageBytes = 1024 * 1024;

    /// <summary>The line stored once in place of whatever an attempt's log holds beyond <paramref name="maxBytes"/>.</summary>
    public static string TruncationMarker(long maxBytes) => $"[log truncated at {maxBytes} bytes by the farm]";

    /// <summary>The build's history shows server $3 holding attempt $2 of build $1.</summary>
    private const string HoldsAttempt = """
        EXISTS (SELECT 1 FROM build_view
                 WHERE build_id = $1
                   AND history @> jsonb_build_array(jsonb_build_object('attempt', $2, 'serverId', $3::text)))
        """;

    /// <summary>
    /// Stores a batch of log text (a batch seen before is ignored) and wakes live followers. Only the server the
    /// build's history shows holding that attempt may add to its log; a batch from any other is dropped (false).
    /// An attempt keeps at most <paramref name="maxBytes"/> bytes of log: the batch that crosses it is kept up to it,
    /// followed once by <see cref="TruncationMarker"/>, and every later batch of that attempt is dropped. Concurrent
    /// batches of one attempt take turns on its <c>build_log_size</c> row, so the count is exact.
    /// </summary>
    public async Task<bool> AppendLogAsync(BuildLogAppended batch, long maxBytes, CancellationToken ct)
    {
        var text = batch.Text.Replace("\0", "", StringComparison.Ordinal);
        var size = Encoding.UTF8.GetByteCount(text);
        // Most batches fit: one statement locks the size row, stores, counts and notifies. The first batch of an attempt
        // (no size row yet) and the one that crosses the cap take the transaction below.
        await using (var command = dataSource.CreateCommand($"""
            WITH size AS (
                SELECT bytes, truncated FROM build_log_size WHERE build_id = $1 AND attempt = $2 AND {HoldsAttempt} FOR UPDATE),
            stored AS (
                INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
                SELECT $1, $2, $4, $5, $6, $7, $8 FROM size WHERE NOT truncated AND bytes + $9 <= $10
                ON CONFLICT DO NOTHING RETURNING build_id),
            counted AS (
                UPDATE build_log_size SET bytes = bytes + $9 WHERE build_id = $1 AND attempt = $2 AND EXISTS (SELECT 1 FROM stored))
            SELECT {HoldsAttempt}, (SELECT bytes FROM size), (SELECT truncated FROM size),
                   (SELECT count(*) FROM (SELECT pg_notify('build_log', build_id::text) FROM stored) n)
            """))
        {
            command.Parameters.AddWithValue(batch.BuildId);
            command.Parameters.AddWithValue(batch.Attempt);
            command.Parameters.AddWithValue(batch.ServerId ?? "");
            command.Parameters.AddWithValue(batch.Stream);
            command.Parameters.AddWithValue(batch.Sequence);
            command.Parameters.AddWithValue(batch.Offset);
            command.Parameters.AddWithValue(text);
            command.Parameters.AddWithValue(batch.At);
            command.Parameters.AddWithValue((long)size);
            command.Parameters.AddWithValue(maxBytes);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            if (!reader.GetBoolean(0))
            {
                return false;
            }
            if (!reader.IsDBNull(1))
            {
                // Stored; or dropped after the cap; or a repeat of a batch already stored (it would have fitted).
                if (reader.GetInt64(3) > 0 || reader.GetBoolean(2) || reader.GetInt64(1) + size <= maxBytes)
                {
                    return true;
                }
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        long stored;
        await using (var claim = new NpgsqlBatch(connection, transaction))
        {
            claim.BatchCommands.Add(Command($"""
                INSERT INTO build_log_size (build_id, attempt) SELECT $1, $2 WHERE {HoldsAttempt}
                ON CONFLICT DO NOTHING
                """, batch.BuildId, batch.Attempt, batch.ServerId ?? ""));
            claim.BatchCommands.Add(Command($"""
                SELECT bytes, truncated FROM build_log_size WHERE build_id = $1 AND attempt = $2 AND {HoldsAttempt} FOR UPDATE
                """, batch.BuildId, batch.Attempt, batch.ServerId ?? ""));
            // A statement of its own, so that it sees what the batch that held the lock before committed.
            claim.BatchCommands.Add(Command("""
                SELECT EXISTS (SELECT 1 FROM build_log WHERE build_id = $1 AND attempt = $2 AND stream = $3 AND sequence = $4)
                """, batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence));
            await using var reader = await claim.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return false;
            }
            stored = reader.GetInt64(0);
            var truncated = reader.GetBoolean(1);
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            if (truncated || reader.GetBoolean(0))
            {
                return true;
            }
        }

        var kept = stored + size <= maxBytes ? text : Utf8Prefix(text, (int)Math.Max(0, maxBytes - stored));
        var keptBytes = kept.Length == text.Length ? size : Encoding.UTF8.GetByteCount(kept);
        await using (var store = new NpgsqlBatch(connection, transaction))
        {
            if (kept.Length > 0)
            {
                store.BatchCommands.Add(Command("""
                    INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence, batch.Offset, kept, batch.At));
            }
            var truncating = keptBytes < size;
            if (truncating)
            {
                // The marker goes last in the stream that crossed the cap, on a line of its own.
                var marker = (kept.EndsWith('\n') ? "" : "\n") + TruncationMarker(maxBytes) + "\n";
                store.BatchCommands.Add(Command("""
                    INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, batch.BuildId, batch.Attempt, batch.Stream, long.MaxValue, batch.Offset + keptBytes, marker, batch.At));
            }
            store.BatchCommands.Add(Command("""
                UPDATE build_log_size SET bytes = bytes + $3, truncated = $4 WHERE build_id = $1 AND attempt = $2
                """, batch.BuildId, batch.Attempt, (long)keptBytes, truncating));
            store.BatchCommands.Add(Command("SELECT pg_notify('build_log', $1::text)", batch.BuildId.ToString()));
            await store.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    /// <summary>The longest start of <paramref name="text"/> that is at most <paramref name="maxBytes"/> bytes of UTF-8, cut between characters.</summary>
    private static string Utf8Prefix(string text, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= maxBytes)
        {
            return text;
        }
        var cut = maxBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }
        return Encoding.UTF8.GetString(bytes, 0, cut);
    }

    /// <summary>
    /// Log batches of a build after <paramref name="afterId"/>: one attempt (the latest when the read starts, by default),
    /// all streams in the order they were stored or one <paramref name="stream"/> in its own order, optionally only those
    /// reaching into [from, to) of that stream. Read page by page (<see cref="LogPageRows"/>, <see cref="LogPageBytes"/>):
    /// no database connection is held while the caller writes a page to a client, however slow.
    /// </summary>
    public async IAsyncEnumerable<LogChunk> ReadLogAsync(Guid buildId, int? attempt, string? stream, long afterId, (long From, long To)? range,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        // The cursor: the last id (all streams) or the last sequence (one stream) read so far.
        var cursor = stream is null ? afterId : long.MinValue;
        while (true)
        {
            var page = await ReadLogPageAsync(buildId, attempt, stream, afterId, cursor, range, ct);
            if (page.Count == 0)
            {
                yield break;
            }
            foreach (var chunk in page)
            {
                yield return chunk;
            }
            // One attempt from start to end, even if another one starts meanwhile.
            attempt ??= page[0].Attempt;
            cursor = stream is null ? page[^1].Id : page[^1].Sequence;
        }
    }

    private async Task<List<LogChunk>> ReadLogPageAsync(Guid buildId, int? attempt, string? stream, long afterId, long cursor,
        (long From, long To)? range, CancellationToken ct)
    {
        var key = stream is null ? "id" : "sequence";
        await using var command = dataSource.CreateCommand($"""
            SELECT id, attempt, stream, byte_offset, sequence, text FROM (
                SELECT p.*, sum(octet_length(p.text)) OVER (ORDER BY p.{key}) - octet_length(p.text) AS bytes_before
                  FROM (SELECT id, attempt, stream, byte_offset, sequence, text FROM build_log
                         WHERE build_id = $1
                           AND attempt = COALESCE($2, (SELECT max(attempt) FROM build_log WHERE build_id = $1))
                           AND ($3::text IS NULL OR stream = $3)
                           AND id > $4
                           AND {key} > $5
                           AND ($6::bigint IS NULL OR byte_offset + octet_length(text) > $6)
                           AND ($7::bigint IS NULL OR byte_offset < $7)
                         ORDER BY {key}
                         LIMIT $8) p) page
             WHERE bytes_before < $9
             ORDER BY {key}
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Integer, (object?)attempt ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)stream ?? DBNull.Value);
        command.Parameters.AddWithValue(afterId);
        command.Parameters.AddWithValue(cursor);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Bigint, (object?)range?.From ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Bigint, (object?)range?.To ?? DBNull.Value);
        command.Parameters.AddWithValue(LogPageRows);
        command.Parameters.AddWithValue((long)LogPageBytes);
        var page = new List<LogChunk>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            page.Add(new LogChunk(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(5), reader.GetInt64(4)));
        }
        return page;
    }

    /// <summary>The registry of build servers, as the Scheduler keeps it, with the builds on each.</summary>
    public async Task<IReadOnlyList<ServerRecord>> ServersAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT s.server_id, s.host, s.architectures, s.toolchains, s.max_concurrent, s.active_builds,
                   s.cpu_percent, s.memory_percent, s.disk_percent, s.maintenance, s.version, s.last_seen,
                   s.online, s.assigned_builds
              FROM build_server_view s ORDER BY s.server_id
            """);
        var servers = new List<ServerRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            servers.Add(new ServerRecord(reader.GetString("server_id"), reader.GetString("host"),
                reader.GetFieldValue<string[]>("architectures"), reader.GetFieldValue<string[]>("toolchains"),
                reader.GetInt32("max_concurrent"), reader.GetInt32("active_builds"),
                reader.GetFloat("cpu_percent"), reader.GetFloat("memory_percent"), reader.GetFloat("disk_percent"), reader.GetBoolean("maintenance"),
                reader.GetString("version"), reader.GetFieldValue<DateTimeOffset>("last_seen"), reader.GetBoolean("online") ? "Online" : "Offline",
                reader.GetInt32("assigned_builds")));
        }
        return servers;
    }
}

/// <summary>One stored batch of log text, with its byte offset and sequence in its stream.</summary>
public sealed record LogChunk(long Id, int Attempt, string Stream, long Offset, string Text, long Sequence);

/// <summary>A build server as GET /api/v1/servers shows it.</summary>
public sealed record ServerRecord(
    string Id, string Host, IReadOnlyList<string> Architectures, IReadOnlyList<string> Toolchains, int MaxConcurrentBuilds,
    int ActiveBuilds, double CpuPercent, double MemoryPercent, double DiskPercent, bool Maintenance, string Version,
    DateTimeOffset LastSeen, string Status, int AssignedBuilds);
