using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class Relaying_each_services_own_outbox : ServersFixture
{
    [Fact]
    public async Task A_relay_sends_only_the_rows_its_service_wrote_and_the_other_waits_for_its_own_relay()
    {
        var recorder = new Recorder();
        using var scheduler = TestHost.Build(Postgres, RabbitMq, recorder, outbox: o => o.Owner = "scheduler");
        using var settings = TestHost.Build(Postgres, RabbitMq, recorder, outbox: o => o.Owner = "settings");
        await TestHost.MigrateAsync(scheduler);
        var fromScheduler = await WriteAsync(scheduler, "from the scheduler");
        var fromSettings = await WriteAsync(settings, "from settings");

        await settings.StartAsync();
        // The scheduler's row is older: a relay that took any pending row would have claimed it first, in the same pass.
        await Eventually.HoldsAsync(() => recorder.Messages<Announcement>().Any(m => m.AnnouncementId == fromSettings.AnnouncementId), "the settings row was relayed");
        Assert.Equal(1, await TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL AND owner = 'scheduler'"));
        Assert.DoesNotContain(recorder.Messages<Announcement>(), m => m.AnnouncementId == fromScheduler.AnnouncementId);

        await scheduler.StartAsync();
        await Eventually.HoldsAsync(() => recorder.Messages<Announcement>().Any(m => m.AnnouncementId == fromScheduler.AnnouncementId), "the scheduler row was relayed by the scheduler");
        // A row is marked delivered only after the broker confirmed it, so the consumer can see it a moment earlier.
        await Eventually.HoldsAsync(() => TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL").ContinueWith(t => t.Result == 0), "the outbox drained");
        await settings.StopAsync();
        await scheduler.StopAsync();
    }

    private static async Task<Announcement> WriteAsync(IHost host, string text)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
        await outbox.BeginAsync();
        var message = new Announcement(NewId.NextGuid(), text);
        await outbox.PublishAsync(message);
        await outbox.CommitAsync();
        return message;
    }
}
