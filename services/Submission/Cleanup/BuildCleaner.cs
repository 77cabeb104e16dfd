using BuildFarm.Contracts;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Persistence;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace BuildFarm.Submission.Cleanup;

/// <summary>
/// Cleans up builds that finished more than cleanupBuildsAfterDays ago (finish time and state from the Scheduler's
/// read model, <c>build_view</c>): deletes their stored log batches (<c>build_log</c>) and their artifacts' files from the
/// content-addressed <see cref="ArtifactStore"/>, except content that a build not being cleaned still references,
/// and records each build in <c>build_cleanup</c>. The build's own record is kept. Runs in batches, one transaction
/// each, under an advisory lock so that one Submission instance cleans at a time. Files are deleted before the batch
/// commits: a crash leaves the batch unmarked and the next pass repeats it (deleting a missing file is harmless).
/// </summary>
public sealed partial class BuildCleaner(
    NpgsqlDataSource dataSource,
    ArtifactStore artifacts,
    FarmSettingsCache settings,
    TimeProvider time,
    IOptions<BuildCleanupOptions> options,
    ILogger<BuildCleaner> logger)
{
    /// <summary>The advisory lock (<see cref="PostgresAdvisoryLock"/>) of a cleanup pass.</summary>
    public const string LockName = "buildfarm.cleanup";

    // The sha256 of every artifact of a build s of the Scheduler's read model (build_view: artifacts [{name, size, sha256, kind}]).
    private const string ArtifactShas = "jsonb_array_elements(s.artifacts) a";

    /// <summary>Cleans every build due; does nothing when cleanupBuildsAfterDays ≤ 0 or another instance is cleaning.</summary>
    public async Task<BuildCleanupPass> RunAsync(CancellationToken ct)
    {
        var days = settings.Current.CleanupBuildsAfterDays;
        if (days <= 0)
        {
            return BuildCleanupPass.Skipped;
        }
        await using var held = await PostgresAdvisoryLock.TryAcquireAsync(dataSource, LockName, ct);
        if (held is null || !await BuildTableExistsAsync(ct))
        {
            return BuildCleanupPass.Skipped;
        }
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(days);
        var batchSize = options.Value.BatchSize;
        var total = new BuildCleanupPass(true, 0, 0, 0, 0);
        while (true)
        {
            var batch = await CleanBatchAsync(cutoff, batchSize, ct);
            total = new BuildCleanupPass(true, total.Builds + batch.Builds, total.LogBatches + batch.LogBatches,
                total.ArtifactFiles + batch.ArtifactFiles, total.SharedArtifacts + batch.SharedArtifacts);
            if (batch.Builds < batchSize)
            {
                break;
            }
        }
        if (total.Builds > 0)
        {
            LogCleaned(total.Builds, days, total.LogBatches, total.ArtifactFiles, total.SharedArtifacts);
        }
        return total;
    }

    private async Task<bool> BuildTableExistsAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT to_regclass('build_view') IS NOT NULL");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private async Task<BuildCleanupPass> CleanBatchAsync(DateTimeOffset cutoff, int batchSize, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var builds = new List<(Guid Id, string[] Shas)>();
        await using (var select = new NpgsqlCommand($"""
            SELECT s.build_id, ARRAY(SELECT lower(a->>'sha256') FROM {ArtifactShas} WHERE a->>'sha256' IS NOT NULL)
              FROM build_view s
             WHERE s.state = ANY($1)
               AND COALESCE(s.finished_at, s.updated_at) < $2
               AND NOT EXISTS (SELECT 1 FROM build_cleanup c WHERE c.build_id = s.build_id)
             ORDER BY s.build_id
             LIMIT $3
            """, connection, transaction))
        {
            select.Parameters.AddWithValue(BuildStates.Ended.ToArray());
            select.Parameters.AddWithValue(cutoff);
            select.Parameters.AddWithValue(batchSize);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                builds.Add((reader.GetGuid(0), reader.GetFieldValue<string[]>(1)));
            }
        }
        if (builds.Count == 0)
        {
            return new BuildCleanupPass(true, 0, 0, 0, 0);
        }
        var ids = builds.Select(b => b.Id).ToArray();
        var shas = builds.SelectMany(b => b.Shas).Where(ArtifactStore.IsSha256).Distinct(StringComparer.Ordinal).ToArray();

        // Content that a build outside this batch and not cleaned yet still references stays in the store.
        var shared = new HashSet<string>(StringComparer.Ordinal);
        if (shas.Length > 0)
        {
            await using var select = new NpgsqlCommand($"""
                SELECT DISTINCT lower(a->>'sha256')
                  FROM build_view s CROSS JOIN LATERAL {ArtifactShas}
                 WHERE lower(a->>'sha256') = ANY($1)
                   AND s.build_id <> ALL($2)
                   AND NOT EXISTS (SELECT 1 FROM build_cleanup c WHERE c.build_id = s.build_id)
                """, connection, transaction);
            select.Parameters.AddWithValue(shas);
            select.Parameters.AddWithValue(ids);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                shared.Add(reader.GetString(0));
            }
        }

        var logs = new Dictionary<Guid, long>();
        await using (var delete = new NpgsqlCommand("""
            WITH deleted AS (DELETE FROM build_log WHERE build_id = ANY($1) RETURNING build_id),
                 sizes AS (DELETE FROM build_log_size WHERE build_id = ANY($1))
            SELECT build_id, count(*) FROM deleted GROUP BY build_id
            """, connection, transaction))
        {
            delete.Parameters.AddWithValue(ids);
            await using var reader = await delete.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                logs[reader.GetGuid(0)] = reader.GetInt64(1);
            }
        }

        var handled = new HashSet<string>(StringComparer.Ordinal);
        var files = new int[builds.Count];
        var kept = 0;
        for (var i = 0; i < builds.Count; i++)
        {
            foreach (var sha in builds[i].Shas.Where(ArtifactStore.IsSha256).Distinct(StringComparer.Ordinal))
            {
                if (!handled.Add(sha))
                {
                    continue;
                }
                if (shared.Contains(sha))
                {
                    kept++;
                }
                else if (DeleteFile(sha))
                {
                    files[i]++;
                }
            }
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO build_cleanup (build_id, cleaned_at, logs_deleted, artifacts_deleted)
            SELECT u.id, $2, u.logs, u.files FROM unnest($1::uuid[], $3::bigint[], $4::integer[]) AS u(id, logs, files)
            ON CONFLICT (build_id) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue(ids);
            insert.Parameters.AddWithValue(NpgsqlDbType.TimestampTz, time.GetUtcNow());
            insert.Parameters.AddWithValue(ids.Select(id => logs.GetValueOrDefault(id)).ToArray());
            insert.Parameters.AddWithValue(files);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return new BuildCleanupPass(true, builds.Count, logs.Values.Sum(), files.Sum(), kept);
    }

    private bool DeleteFile(string sha256)
    {
        var path = artifacts.PathFor(sha256);
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(ex, path);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Information,
        "Cleaned {Builds} builds finished more than {Days} days ago: {LogBatches} log batches and {Files} artifact files deleted, {Shared} shared artifacts kept")]
    private partial void LogCleaned(int builds, int days, long logBatches, int files, int shared);

    [LoggerMessage(LogLevel.Warning, "The artifact file {Path} could not be deleted; it stays in the store")]
    private partial void LogDeleteFailed(Exception exception, string path);
}
