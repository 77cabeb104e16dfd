using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class Messages_written_while_the_bus_is_down : ServersFixture
{
    [Fact]
    public async Task Are_delivered_after_it_starts_looking_like_normal_publishes()
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder);
        await TestHost.MigrateAsync(host);

        var published = new List<(Announcement Message, Guid MessageId, Guid CorrelationId)>();
        for (var transaction = 0; transaction < 2; transaction++)
        {
            await using var scope = host.Services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
            await outbox.BeginAsync();
            await using (var note = outbox.Session.CreateCommand("INSERT INTO counter_note (counter_id, increment_id) VALUES ($1, $2)"))
            {
                note.Parameters.Add(new NpgsqlParameter { Value = Guid.Empty });
                note.Parameters.Add(new NpgsqlParameter { Value = NewId.NextGuid() });
                await note.ExecuteNonQueryAsync();
            }
            for (var i = 0; i < 5; i++)
            {
                var message = new Announcement(NewId.NextGuid(), $"announcement {transaction}.{i}");
                var messageId = NewId.NextGuid();
                var correlationId = NewId.NextGuid();
                await outbox.PublishAsync(message, context =>
                {
                    context.MessageId = messageId;
                    context.CorrelationId = correlationId;
                    context.Headers.Set(Recorder.TestHeader, message.Text);
                });
                published.Add((message, messageId, correlationId));
            }
            await outbox.CommitAsync();
        }
        // A transaction that is not committed publishes nothing.
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
            await outbox.BeginAsync();
            await outbox.PublishAsync(new Announcement(NewId.NextGuid(), "rolled back"));
        }
        Assert.Equal(10, await TestHost.ScalarAsync(Postgres, "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL"));

        await host.StartAsync();
        await Eventually.HoldsAsync(() => recorder.Messages<Announcement>().Count >= 10, "the ten announcements arrived");
        await Eventually.HoldsAsync(() => TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL").ContinueWith(t => t.Result == 0), "the outbox drained");

        var received = recorder.All.Where(r => r.Message is Announcement).ToList();
        Assert.Equal(10, received.Count);
        foreach (var (message, messageId, correlationId) in published)
        {
            var seen = Assert.Single(received, r => Equals(r.Message, message));
            Assert.Equal(messageId, seen.MessageId);
            Assert.Equal(correlationId, seen.CorrelationId);
            Assert.Equal(message.Text, seen.TestHeader);
            Assert.NotNull(seen.ConversationId);
            Assert.EndsWith(":Announcement", seen.DestinationAddress?.AbsolutePath, StringComparison.Ordinal);
        }
        await host.StopAsync();
    }
}
