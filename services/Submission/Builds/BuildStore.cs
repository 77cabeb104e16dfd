using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence.Outbox;
using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>Reads builds and logs from the farm's database, and records submissions with their BuildRequested.</summary>
public sealed class BuildStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

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
                return (await FindByIdempotencyKeyAsync(request.SubmittedBy ?? "anonymous", idempotencyKey!, ct), false);
            }
        }
        await outbox.PublishAsync(request, ct);
        await outbox.CommitAsync(ct);
        return (request.BuildId, true);
    }

    private async Task<Guid> FindByIdempotencyKeyAsync(string submittedBy, string key, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT build_id FROM build_request WHERE submitted_by = $1 AND idempotency_key = $2");
        command.Parameters.AddWithValue(submittedBy);
        command.Parameters.AddWithValue(key);
        return (Guid)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<BuildRecord?> FindAsync(Guid buildId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT s.current_state, s.data, r.request
              FROM (SELECT $1::uuid AS id) k
              LEFT JOIN build_state s ON s.correlation_id = k.id
              LEFT JOIN build_request r ON r.build_id = k.id
            """);
        command.Parameters.AddWithValue(buildId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        if (!reader.IsDBNull(1))
        {
            var saga = JsonSerializer.Deserialize<BuildRecord>(reader.GetString(1), Json)!;
            return saga with { CorrelationId = buildId, CurrentState = reader.GetString(0) };
        }
        if (!reader.IsDBNull(2))
        {
            var request = JsonSerializer.Deserialize<BuildRequested>(reader.GetString(2), Json)!;
            return new BuildRecord
            {
                CorrelationId = buildId,
                CurrentState = "Queued",
                SourceRepository = request.SourceRepository,
                Branch = request.Branch,
                CommitHash = request.CommitHash,
                TargetArchitecture = request.TargetArchitecture,
                Toolchain = request.Toolchain,
                SpecPath = request.SpecPath,
                Priority = (request.Priority ?? "normal").ToLowerInvariant(),
                RequestedServerId = Domain.ServerIds.Normalise(request.ServerId),
                SubmittedBy = request.SubmittedBy ?? "anonymous",
                SubmittedAt = request.SubmittedAt ?? default,
            };
        }
        return null;
    }

    /// <summary>Stores a batch of log text; a batch seen before is ignored.</summary>
    public async Task AppendLogAsync(BuildLogAppended batch, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """);
        command.Parameters.AddWithValue(batch.BuildId);
        command.Parameters.AddWithValue(batch.Attempt);
        command.Parameters.AddWithValue(batch.Stream);
        command.Parameters.AddWithValue(batch.Sequence);
        command.Parameters.AddWithValue(batch.Offset);
        command.Parameters.AddWithValue(batch.Text.Replace("\0", "", StringComparison.Ordinal));
        command.Parameters.AddWithValue(batch.At);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The log of one attempt (the latest by default), optionally one stream, in the order it was written.</summary>
    public async IAsyncEnumerable<LogChunk> ReadLogAsync(Guid buildId, int? attempt, string? stream, long afterId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, attempt, stream, text FROM build_log
             WHERE build_id = $1
               AND attempt = COALESCE($2, (SELECT max(attempt) FROM build_log WHERE build_id = $1))
               AND ($3::text IS NULL OR stream = $3)
               AND id > $4
             ORDER BY id
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Integer, (object?)attempt ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)stream ?? DBNull.Value);
        command.Parameters.AddWithValue(afterId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return new LogChunk(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3));
        }
    }
}

/// <summary>One stored batch of log text.</summary>
public sealed record LogChunk(long Id, int Attempt, string Stream, string Text);
