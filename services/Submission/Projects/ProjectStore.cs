using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace BuildFarm.Submission.Projects;

/// <summary>The table <c>project</c>: registered projects and what their last check found.</summary>
public sealed class ProjectStore(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        id, name, repository, branch, parameters, owner, created_at, last_checked_at, last_seen_commit, last_build_id, last_error
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Stores a new project; false when its name is taken.</summary>
    public async Task<bool> AddAsync(Project project, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO project (id, name, repository, branch, parameters, owner, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (name) DO NOTHING
            """);
        command.Parameters.AddWithValue(project.Id);
        command.Parameters.AddWithValue(project.Name);
        command.Parameters.AddWithValue(project.Repository);
        command.Parameters.AddWithValue(project.Branch);
        command.Parameters.AddWithValue(NpgsqlDbType.Jsonb, JsonSerializer.Serialize(project.Parameters, Json));
        command.Parameters.AddWithValue(project.Owner);
        command.Parameters.AddWithValue(project.CreatedAt);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<Project?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM project WHERE id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Every project, by name.</summary>
    public async Task<IReadOnlyList<Project>> ListAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM project ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var projects = new List<Project>();
        while (await reader.ReadAsync(ct))
        {
            projects.Add(Read(reader));
        }
        return projects;
    }

    /// <summary>The projects never checked or last checked at or before <paramref name="checkedBefore"/>, least recently checked first.</summary>
    public async Task<IReadOnlyList<Guid>> ListDueAsync(DateTimeOffset checkedBefore, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id FROM project
             WHERE last_checked_at IS NULL OR last_checked_at <= $1
             ORDER BY last_checked_at NULLS FIRST, id
            """);
        command.Parameters.AddWithValue(checkedBefore);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    /// <summary>Removes a project; false when there was none. Its builds are kept.</summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM project WHERE id = $1");
        command.Parameters.AddWithValue(id);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>A check found the branch where the last build left it.</summary>
    public Task RecordUnchangedAsync(Guid id, DateTimeOffset checkedAt, CancellationToken ct) =>
        UpdateAsync("UPDATE project SET last_checked_at = $2, last_error = NULL WHERE id = $1", ct, id, checkedAt);

    /// <summary>A check found the branch at <paramref name="commit"/> and build <paramref name="buildId"/> was submitted for it.</summary>
    public Task RecordSubmittedAsync(Guid id, DateTimeOffset checkedAt, string commit, Guid buildId, CancellationToken ct) =>
        UpdateAsync("""
            UPDATE project SET last_checked_at = $2, last_seen_commit = $3, last_build_id = $4, last_error = NULL WHERE id = $1
            """, ct, id, checkedAt, commit, buildId);

    /// <summary>A check failed; the last seen commit is kept, so the next good check still compares against it.</summary>
    public Task RecordErrorAsync(Guid id, DateTimeOffset checkedAt, string error, CancellationToken ct) =>
        UpdateAsync("UPDATE project SET last_checked_at = $2, last_error = $3 WHERE id = $1", ct, id, checkedAt, error);

    private async Task UpdateAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.AddWithValue(value);
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    private static Project Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0),
        Name = reader.GetString(1),
        Repository = reader.GetString(2),
        Branch = reader.GetString(3),
        Parameters = JsonSerializer.Deserialize<ProjectParameters>(reader.GetString(4), Json)!,
        Owner = reader.GetString(5),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(6),
        LastCheckedAt = reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
        LastSeenCommit = reader.IsDBNull(8) ? null : reader.GetString(8),
        LastBuildId = reader.IsDBNull(9) ? null : reader.GetGuid(9),
        LastError = reader.IsDBNull(10) ? null : reader.GetString(10),
    };
}
