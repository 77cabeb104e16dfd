using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class A_message_the_relay_cannot_send : ServersFixture
{
    [Fact]
    public async Task Holds_back_only_its_own_source_which_keeps_its_order_and_the_relay_goes_on_with_the_others()
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder);
        await TestHost.MigrateAsync(host);
        var poisoned = NewId.NextGuid();
        var poison = await WriteAsync(host, "poison", poisoned);
        var behind = await WriteAsync(host, "behind the poison", poisoned);
        // A row no relay can send: no serializer reads its content type.
        Assert.Equal(1, await Execute("UPDATE outbox_message SET content_type = 'unreadable/' || content_type WHERE body LIKE '%\"poison\"%'"));

        await host.StartAsync();
        var others = new List<Announcement>();
        for (var i = 0; i < 5; i++)
        {
            var other = await WriteAsync(host, $"other {i}", NewId.NextGuid());
            others.Add(other);
            await Eventually.HoldsAsync(() => recorder.Messages<Announcement>().Any(m => m.AnnouncementId == other.AnnouncementId), $"other message {i} was relayed");
        }

        // The failing row was tried, and held back from the time it failed (not only retried at the relay's pace).
        Assert.Equal(1, await TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE body LIKE '%\"poison\"%' AND attempts >= 1 AND last_error IS NOT NULL AND available_at > created_at"));
        // Its source keeps its order: the message behind it waits.
        Assert.DoesNotContain(recorder.Messages<Announcement>(), m => m.AnnouncementId == poison.AnnouncementId || m.AnnouncementId == behind.AnnouncementId);

        // Once the row can be sent, it goes, and then the one behind it.
        await Execute("UPDATE outbox_message SET content_type = substr(content_type, 12), available_at = now() WHERE body LIKE '%\"poison\"%'");
        await Eventually.HoldsAsync(() => recorder.Messages<Announcement>().Any(m => m.AnnouncementId == behind.AnnouncementId), "the source went on");
        var order = recorder.Messages<Announcement>().Select(m => m.AnnouncementId).Where(id => id == poison.AnnouncementId || id == behind.AnnouncementId).ToList();
        Assert.Equal([poison.AnnouncementId, behind.AnnouncementId], order);
        await host.StopAsync();
    }

    private async Task<int> Execute(string sql)
    {
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    private static async Task<Announcement> WriteAsync(IHost host, string text, Guid source)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
        await outbox.BeginAsync();
        var message = new Announcement(NewId.NextGuid(), text);
        await outbox.PublishAsync(message, context => context.CorrelationId = source);
        await outbox.CommitAsync();
        return message;
    }
}
