using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>Tables other services own that Submission reads, created in a test database from those services' own migrations.</summary>
public static class FarmTables
{
    /// <summary>The Scheduler's tables (build_state, build_server, …), from services/Scheduler/Migrations in name order.</summary>
    public static async Task CreateSchedulerTablesAsync(NpgsqlDataSource database)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Root, "services", "Scheduler", "Migrations"), "*.sql").Order(StringComparer.Ordinal))
        {
            await using var command = database.CreateCommand(await File.ReadAllTextAsync(file));
            await command.ExecuteNonQueryAsync();
        }
    }
}
