using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Persistence.Tests;

/// <summary>
/// A mass rebuild leaves one pending outbox row per accepted submission, each its own source. Two relays share such a
/// backlog: each message goes out once, and the oldest sources first.
/// </summary>
public sealed class A_long_outbox_backlog : ServersFixture
{
    private const int Sources = 400;

    [Fact]
    public async Task Is_relayed_by_two_relays_once_each_oldest_first()
    {
        var first = new Recorder();
        var second = new Recorder();
        using var one = TestHost.Build(Postgres, RabbitMq, first, outbox: o => o.SourcesPerBatch = 8);
        using var other = TestHost.Build(Postgres, RabbitMq, second, outbox: o => o.SourcesPerBatch = 8);
        await TestHost.MigrateAsync(one);
        var written = new List<Announcement>();
        await using (var scope = one.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
            for (var i = 0; i < Sources; i++)
            {
                await outbox.BeginAsync();
                var message = new Announcement(NewId.NextGuid(), $"submission {i}");
                await outbox.PublishAsync(message, context => context.CorrelationId = NewId.NextGuid());
                await outbox.CommitAsync();
                written.Add(message);
            }
        }

        await Task.WhenAll(one.StartAsync(), other.StartAsync());
        var ids = written.Select(m => m.AnnouncementId).ToHashSet();
        IReadOnlyList<Guid> Received() => [.. first.Messages<Announcement>().Concat(second.Messages<Announcement>()).Select(m => m.AnnouncementId).Where(ids.Contains)];
        await Eventually.HoldsAsync(() => Received().Count >= Sources, "every message is relayed", TimeSpan.FromSeconds(60));
        await Task.Delay(500);

        Assert.Equal(Sources, Received().Count);
        Assert.Equal(Sources, Received().Distinct().Count());
        // Claimed oldest first: no row was sent before a row written long before it was (a claim takes 8 sources).
        Assert.Equal(0, await TestHost.ScalarAsync(Postgres, """
            SELECT count(*) FROM outbox_message late JOIN outbox_message early ON early.id < late.id - 64
             WHERE late.delivered_at < early.delivered_at AND late.body LIKE '%submission %' AND early.body LIKE '%submission %'
            """));
        await Task.WhenAll(one.StopAsync(), other.StopAsync());
    }
}
