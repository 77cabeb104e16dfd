using System.Reflection;
using Npgsql;

namespace BuildFarm.Persistence;

/// <summary>
/// Applies the SQL migrations embedded in an assembly: every manifest resource whose name contains
/// <c>.Migrations.</c> and ends with <c>.sql</c> (a file <c>Migrations/0001_outbox.sql</c> with
/// <c>&lt;EmbeddedResource Include="Migrations/*.sql" /&gt;</c>), in ordinal name order, each once.
/// Applied migrations are recorded in <c>schema_migrations(assembly, name, applied_at)</c>. Each one runs
/// in its own transaction together with its record, and the whole run holds a PostgreSQL advisory lock,
/// so processes that start together apply each migration exactly once.
/// </summary>
public static class PostgresMigrator
{
    /// <summary>The session advisory lock (<see cref="PostgresAdvisoryLock"/>) held while migrating.</summary>
    public const string LockName = "buildfarm.migrations";

    private const string ResourceMarker = ".Migrations.";

    /// <summary>The migrations an assembly embeds, as (name, SQL) in the order they are applied.</summary>
    public static IReadOnlyList<(string Name, string Sql)> ReadMigrations(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var migrations = new List<(string Name, string Sql)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var marker = resource.LastIndexOf(ResourceMarker, StringComparison.Ordinal);
            if (marker < 0 || !resource.EndsWith(".sql", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded resource {resource} cannot be read.");
            using var reader = new StreamReader(stream);
            migrations.Add((resource[(marker + ResourceMarker.Length)..], reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return migrations;
    }

    /// <summary>Applies the assembly's migrations that are not applied yet; returns the names it applied.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, Assembly assembly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var migrations = ReadMigrations(assembly);
        var assemblyName = assembly.GetName().Name ?? assembly.FullName ?? "unknown";
        var applied = new List<string>();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (await PostgresAdvisoryLock.AcquireAsync(connection, LockName, cancellationToken))
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    assembly   text        NOT NULL,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (assembly, name)
                )
                """, cancellationToken);

            var done = new HashSet<string>(StringComparer.Ordinal);
            await using (var select = new NpgsqlCommand("SELECT name FROM schema_migrations WHERE assembly = $1", connection))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = assemblyName });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    done.Add(reader.GetString(0));
                }
            }

            foreach (var (name, sql) in migrations)
            {
                if (done.Contains(name))
                {
                    continue;
                }
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, sql, cancellationToken);
                await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (assembly, name) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter { Value = assemblyName });
                    record.Parameters.Add(new NpgsqlParameter { Value = name });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                applied.Add(name);
            }
        }
        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
