using BuildFarm.Contracts;
using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>Requests accepted over HTTP that the Scheduler then refused (<see cref="BuildRejected"/>): kept with its reasons, so the build reads as Rejected.</summary>
public sealed class BuildRejections(NpgsqlDataSource dataSource)
{
    /// <summary>Marks an HTTP-accepted request the Scheduler refused.</summary>
    public async Task RecordRejectionAsync(BuildRejected rejected, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("UPDATE build_request SET rejected_reason = $2 WHERE build_id = $1");
        command.Parameters.AddWithValue(rejected.BuildId);
        command.Parameters.AddWithValue(string.Join("; ", rejected.Errors.Select(e => $"{e.Field}: {e.Message}")));
        await command.ExecuteNonQueryAsync(ct);
    }
}
