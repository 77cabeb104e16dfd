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

    /// <summary>One build ($1), looked up by its keys (a full join filtered afterwards would read both tables whole).</summary>
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

    /// <summary>
    /// Builds the Scheduler took up, from its read model, with the columns <see cref="Read"/> takes. Every filter of
    /// <see cref="ListAsync"/> is an equality on a typed column of build_view (the Scheduler indexes each one with
    /// (submitted_at DESC, id DESC): 0006_build_columns.sql, 0008_listing_indexes.sql), so a page is one index range scan.
    /// </summary>
    private const string TakenUp = """
        SELECT v.build_id AS id, v.state, v.submitted_at, v.architecture, v.server_id AS server, v.repository,
               v.submitted_by AS submitter, v.priority, true AS taken_up, v.branch, v.commit_hash, v.spec_path, v.toolchain,
               v.requested_server_id, v.started_at, v.finished_at, v.attempt, v.reason, v.exit_code, v.duration, v.artifacts,
               v.history, NULL::jsonb AS request, NULL::text AS rejected_reason
          FROM build_view v
        """;

    /// <summary>
    /// Requests accepted here that the Scheduler has not taken up (yet), or refused. Only rows not yet marked taken up are
    /// candidates (a partial index; <see cref="TakenUpRequests"/> marks the others), and each is checked against build_view.
    /// </summary>
    private const string NotTakenUp = """
        SELECT * FROM (
            SELECT r.build_id AS id, CASE WHEN r.rejected_reason IS NULL THEN 'Queued' ELSE 'Rejected' END AS state,
                   r.submitted_at, r.request->>'targetArchitecture' AS architecture, NULL::text AS server,
                   r.request->>'sourceRepository' AS repository, r.submitted_by AS submitter,
                   lower(COALESCE(r.request->>'priority', 'normal')) AS priority, false AS taken_up, NULL::text AS branch,
                   NULL::text AS commit_hash, NULL::text AS spec_path, NULL::text AS toolchain, NULL::text AS requested_server_id,
                   NULL::timestamptz AS started_at, NULL::timestamptz AS finished_at, NULL::int AS attempt, NULL::text AS reason,
                   NULL::int AS exit_code, NULL::interval AS duration, NULL::jsonb AS artifacts, NULL::jsonb AS history,
                   r.request, r.rejected_reason
              FROM build_request r
             WHERE NOT r.taken_up AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id)) p
        """;

    /// <summary>
    /// One page of builds, newest first, and the cursor of the next page (null on the last): the newest matching builds the
    /// Scheduler took up and the newest matching requests it has not, merged. Only the filters given are in the SQL, so
    /// PostgreSQL plans each query for the index of its filter.
    /// </summary>
    public async Task<(IReadOnlyList<BuildRecord> Builds, BuildCursor? Next)> ListAsync(BuildQuery q, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand();
        var takenUp = Filters(q, command, new("v.state", "v.architecture", "v.server_id", "v.repository", "v.submitted_by", "v.priority", "v.submitted_at", "v.build_id"));
        var notTakenUp = Filters(q, command, new("p.state", "p.architecture", "p.server", "p.repository", "p.submitter", "p.priority", "p.submitted_at", "p.id"));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = q.Limit + 1 });
        var limit = "$" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = $"""
            SELECT b.*, c.cleaned_at FROM (
                ({TakenUp} {takenUp} ORDER BY v.submitted_at DESC, v.build_id DESC LIMIT {limit})
                UNION ALL
                ({NotTakenUp} {notTakenUp} ORDER BY p.submitted_at DESC, p.id DESC LIMIT {limit})) b
              LEFT JOIN build_cleanup c ON c.build_id = b.id
             ORDER BY b.submitted_at DESC, b.id DESC
             LIMIT {limit}
            """;
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

    /// <summary>The column names a filter compares, in one part of the listing.</summary>
    private sealed record FilterColumns(string State, string Architecture, string Server, string Repository, string Submitter,
        string Priority, string SubmittedAt, string Id);

    /// <summary>The WHERE clause of the filters <paramref name="q"/> sets, on <paramref name="c"/>; adds their parameters to <paramref name="command"/>.</summary>
    private static string Filters(BuildQuery q, NpgsqlCommand command, FilterColumns c)
    {
        var conditions = new List<string>();
        string Parameter<T>(T value)
        {
            command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
            return "$" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        void Equal(string column, string? value)
        {
            if (value is not null)
            {
                conditions.Add($"{column} = {Parameter(value)}");
            }
        }
        Equal(c.State, q.State);
        Equal(c.Architecture, q.Architecture);
        Equal(c.Server, q.Server);
        Equal(c.Repository, q.Repository);
        Equal(c.Submitter, q.Submitter);
        Equal(c.Priority, q.Priority?.ToLowerInvariant());
        if (q.From is { } from)
        {
            conditions.Add($"{c.SubmittedAt} >= {Parameter(from.ToUniversalTime())}");
        }
        if (q.To is { } to)
        {
            conditions.Add($"{c.SubmittedAt} < {Parameter(to.ToUniversalTime())}");
        }
        if (q.After is { } after)
        {
            conditions.Add($"({c.SubmittedAt}, {c.Id}) < ({Parameter(after.SubmittedAt.ToUniversalTime())}, {Parameter(after.Id)})");
        }
        return conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
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
