using BuildFarm.Persistence.Outbox;
using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class Cleaning_up_the_inbox_and_outbox : IAsyncLifetime
{
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await TestServers.CreateDatabaseAsync("cleanup");

    public Task DisposeAsync() => TestServers.DropDatabaseAsync(_postgres);

    [Fact]
    public async Task Removes_old_inbox_rows_and_old_delivered_messages_only()
    {
        await using var dataSource = NpgsqlDataSource.Create(_postgres);
        await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresOutbox).Assembly, CancellationToken.None);
        await using (var seed = dataSource.CreateCommand("""
            INSERT INTO inbox_state (message_id, consumer_id, received_at) VALUES
                (gen_random_uuid(), gen_random_uuid(), now() - interval '2 hours'),
                (gen_random_uuid(), gen_random_uuid(), now());
            INSERT INTO outbox_message (owner, source, message_id, destination_address, content_type, message_type, body, sent_time, created_at, delivered_at)
            VALUES ('test', 'old-delivered', gen_random_uuid(), 'rabbitmq://h/x', 'application/vnd.masstransit+json', 'urn:message:X', '{}', now(), now() - interval '3 hours', now() - interval '2 hours'),
                   ('test', 'new-delivered', gen_random_uuid(), 'rabbitmq://h/x', 'application/vnd.masstransit+json', 'urn:message:X', '{}', now(), now(), now()),
                   ('test', 'old-pending',   gen_random_uuid(), 'rabbitmq://h/x', 'application/vnd.masstransit+json', 'urn:message:X', '{}', now(), now() - interval '3 hours', NULL);
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        var (inbox, outbox) = await OutboxStore.CleanupAsync(dataSource, TimeSpan.FromHours(1), TimeSpan.FromHours(1), CancellationToken.None);

        Assert.Equal((1, 1), (inbox, outbox));
        await using var left = dataSource.CreateCommand("SELECT string_agg(source, ',' ORDER BY source) FROM outbox_message");
        Assert.Equal("new-delivered,old-pending", await left.ExecuteScalarAsync());
    }
}
