using System.Text.Json;
using Npgsql;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>Builds as the Scheduler's saga row keeps them, with attempts held by servers, and logs written straight into the table.</summary>
public static class LoggedBuilds
{
    /// <summary>A build in <paramref name="state"/> whose history shows <paramref name="serverId"/> holding attempt 1.</summary>
    public static async Task<Guid> AddAsync(NpgsqlDataSource database, string state, string serverId = "s1", string submittedBy = "alice")
    {
        var id = Guid.NewGuid();
        var data = JsonSerializer.Serialize(new
        {
            CorrelationId = id,
            CurrentState = state,
            SubmittedBy = submittedBy,
            SubmittedAt = DateTimeOffset.UtcNow,
            Attempt = 1,
            ServerId = serverId,
            History = new[] { new { At = DateTimeOffset.UtcNow, State = "Building", Attempt = 1, ServerId = serverId, Reason = (string?)null } },
        });
        await using var command = database.CreateCommand("INSERT INTO build_state (correlation_id, current_state, version, data) VALUES ($1, $2, 1, $3::jsonb)");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(state);
        command.Parameters.AddWithValue(data);
        await command.ExecuteNonQueryAsync();
        return id;
    }

    /// <summary>
    /// Writes <paramref name="batches"/> batches of <paramref name="batchBytes"/> bytes (ASCII lines, the last byte of each a
    /// newline) to the stdout of attempt 1; returns the whole text.
    /// </summary>
    public static async Task<string> WriteLogAsync(NpgsqlDataSource database, Guid buildId, int batches, int batchBytes)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
            SELECT $1, 1, 'stdout', n, (n - 1) * $3::bigint, lpad(n::text, $3 - 1, '.') || E'\n', now()
              FROM generate_series(1, $2) n
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(batches);
        command.Parameters.AddWithValue(batchBytes);
        await command.ExecuteNonQueryAsync();
        return string.Concat(Enumerable.Range(1, batches).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(batchBytes - 1, '.') + "\n"));
    }
}
