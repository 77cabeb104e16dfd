using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence.Outbox;
using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>
/// Submissions: records a request accepted over HTTP (or by a project sync) with its BuildRequested in one transaction,
/// answers a retried Idempotency-Key with the earlier build, and counts the queue a new submission would join.
/// </summary>
public sealed class BuildSubmissions(NpgsqlDataSource dataSource)
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
                     WHERE NOT r.taken_up AND r.rejected_reason IS NULL AND r.submitted_at > now() - interval '1 hour'
                       AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id))
            """);
        command.Parameters.AddWithValue(BuildStates.Queued);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
