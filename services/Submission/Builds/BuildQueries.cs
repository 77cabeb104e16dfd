using System.Data;
using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>Reads builds: one by id, or a filtered page of them, newest first.</summary>
public sealed class BuildQueries(NpgsqlDataSource dataSource)
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
}
