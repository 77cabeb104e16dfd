using System.Text.Json;
using Npgsql;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>Builds as the Scheduler writes them, with attempts held by servers, and logs written straight into the table.</summary>
public static class LoggedBuilds
{
    /// <summary>A build in <paramref name="state"/> whose history shows <paramref name="serverId"/> holding attempt 1.</summary>
    public static Task<Guid> AddAsync(NpgsqlDataSource database, string state, string serverId = "s1", string submittedBy = "alice") =>
        SchedulerBuilds.AddAsync(database, state, b =>
        {
            b.SubmittedBy = submittedBy;
            b.Attempt = 1;
            b.ServerId = serverId;
            b.History.Add(SchedulerBuilds.Transition(DateTimeOffset.UtcNow, "Building", 1, serverId));
        });

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
