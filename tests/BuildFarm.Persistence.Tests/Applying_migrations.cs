using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class Applying_migrations : IAsyncLifetime
{
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await TestServers.CreateDatabaseAsync("migrations");

    public Task DisposeAsync() => TestServers.DropDatabaseAsync(_postgres);

    [Fact]
    public void Reads_the_embedded_sql_files_in_name_order()
    {
        var migrations = PostgresMigrator.ReadMigrations(typeof(CounterState).Assembly);

        Assert.Equal(["0001_counter_state.sql", "0002_counter_note.sql", "0003_counter_count.sql"], migrations.Select(m => m.Name));
        Assert.Contains("CREATE TABLE counter_state", migrations[0].Sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Twice_is_a_no_op()
    {
        await using var dataSource = NpgsqlDataSource.Create(_postgres);

        var first = await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresOutbox).Assembly, CancellationToken.None);
        var second = await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresOutbox).Assembly, CancellationToken.None);

        Assert.Equal(["0001_outbox.sql", "0002_outbox_owner.sql", "0003_outbox_pending_order.sql"], first);
        Assert.Empty(second);
        Assert.Equal(3, await Count(dataSource, "SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task From_several_processes_at_once_applies_each_migration_once()
    {
        var dataSources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(_postgres)).ToList();
        try
        {
            var runs = await Task.WhenAll(dataSources.Select(ds => Task.Run(async () =>
            {
                var applied = new List<string>();
                applied.AddRange(await PostgresMigrator.ApplyAsync(ds, typeof(PostgresOutbox).Assembly, CancellationToken.None));
                applied.AddRange(await PostgresMigrator.ApplyAsync(ds, typeof(CounterState).Assembly, CancellationToken.None));
                return applied;
            })));

            Assert.Equal(["0001_counter_state.sql", "0001_outbox.sql", "0002_counter_note.sql", "0002_outbox_owner.sql", "0003_counter_count.sql", "0003_outbox_pending_order.sql"], runs.SelectMany(r => r).Order(StringComparer.Ordinal));
            Assert.Equal(6, await Count(dataSources[0], "SELECT count(*) FROM schema_migrations"));
            Assert.Equal(0, await Count(dataSources[0], "SELECT count(*) FROM counter_state"));
        }
        finally
        {
            foreach (var dataSource in dataSources)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    private static async Task<long> Count(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
