using Npgsql;

namespace BuildFarm.Submission.Cleanup;

/// <summary>Reads the table <c>build_cleanup</c>: when a build's logs and artifacts were removed.</summary>
public sealed class BuildCleanupStore(NpgsqlDataSource dataSource)
{
    /// <summary>When the build's logs and artifacts were cleaned up; null while they are kept.</summary>
    public async Task<DateTimeOffset?> CleanedAtAsync(Guid buildId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT cleaned_at FROM build_cleanup WHERE build_id = $1");
        command.Parameters.AddWithValue(buildId);
        return await command.ExecuteScalarAsync(ct) is DateTime cleanedAt
            ? new DateTimeOffset(DateTime.SpecifyKind(cleanedAt, DateTimeKind.Utc))
            : null;
    }
}
