using System.Data;
using Npgsql;

namespace BuildFarm.Submission.Servers;

/// <summary>The build servers, read from the Scheduler's read model (<c>build_server_view</c>).</summary>
public sealed class ServerQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The registry of build servers, as the Scheduler keeps it, with the builds on each.</summary>
    public async Task<IReadOnlyList<ServerRecord>> ListAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT s.server_id, s.host, s.architectures, s.toolchains, s.max_concurrent, s.active_builds,
                   s.cpu_percent, s.memory_percent, s.disk_percent, s.maintenance, s.version, s.last_seen,
                   s.online, s.assigned_builds
              FROM build_server_view s ORDER BY s.server_id
            """);
        var servers = new List<ServerRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            servers.Add(new ServerRecord(reader.GetString("server_id"), reader.GetString("host"),
                reader.GetFieldValue<string[]>("architectures"), reader.GetFieldValue<string[]>("toolchains"),
                reader.GetInt32("max_concurrent"), reader.GetInt32("active_builds"),
                reader.GetFloat("cpu_percent"), reader.GetFloat("memory_percent"), reader.GetFloat("disk_percent"), reader.GetBoolean("maintenance"),
                reader.GetString("version"), reader.GetFieldValue<DateTimeOffset>("last_seen"), reader.GetBoolean("online") ? "Online" : "Offline",
                reader.GetInt32("assigned_builds")));
        }
        return servers;
    }
}
