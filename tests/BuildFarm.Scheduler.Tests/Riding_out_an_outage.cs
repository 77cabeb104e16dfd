using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// The broker or the database away from the Scheduler (through a <see cref="TcpProxy"/>: other tests share the real
/// servers) for longer than three heartbeat intervals and than any endpoint's own retries, while a build runs.
/// </summary>
public sealed class Riding_out_an_outage
{
    [Fact]
    public async Task A_scheduler_cut_off_from_the_broker_declares_no_server_lost_and_the_build_runs_once()
    {
        await using var broker = new TcpProxy(TestServers.RabbitMq.Host, TestServers.RabbitMq.Port);
        // It reports a 2 s interval (heartbeats still come every 500 ms): a stall of the test process under load must not
        // make it silent for three intervals, or it is lost as any silent server is.
        var server = new FakeServer("b1", max: 1) { Interval = TimeSpan.FromSeconds(2) };
        await using var farm = await SchedulerFarm.StartAsync(1, env =>
            env["ConnectionStrings__RabbitMq"] = new UriBuilder(env["ConnectionStrings__RabbitMq"]) { Port = broker.Port }.Uri.ToString(), server);
        farm.StartHeartbeats();
        var request = SchedulerFarm.Request("alice", "normal");
        await farm.Bus.Publish(request);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Building") == 1, "the build is running");

        // Heartbeats go on arriving in the queue (the server reaches the broker); the Scheduler sees none for 15 s,
        // well over three heartbeat intervals (6 s).
        broker.Cut();
        await Task.Delay(TimeSpan.FromSeconds(15));
        var restored = DateTimeOffset.UtcNow;
        broker.Restore();
        // Once the Scheduler consumes again (its own probes come through) and has had time to relay what it wrote
        // meanwhile, a server judged lost during the cut would have had its attempt reported failed: the build is still
        // Building, attempt 1.
        await farm.WaitUntilAsync(async () =>
            await farm.ScalarAsync("SELECT count(*) FROM bus_probe WHERE last_consumed_at > $1", restored) == 1,
            "the Scheduler consumes again");
        await Task.Delay(TimeSpan.FromSeconds(4));
        var running = Assert.Single(await farm.BuildsAsync());
        Assert.Equal(("Building", 1), (running.State, running.Attempt));
        await farm.FinishAsync(server, request.BuildId, 1);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 1, "the build completed");

        var build = Assert.Single(await farm.BuildsAsync());
        Assert.Equal(1, build.Attempt);
        Assert.Single(farm.Dispatches);
    }

    [Fact]
    public async Task A_build_that_ends_while_the_database_is_away_completes_once_it_is_back_and_no_message_goes_to_an_error_queue()
    {
        var direct = new NpgsqlConnectionStringBuilder(TestServers.Postgres);
        await using var database = new TcpProxy(direct.Host!, direct.Port);
        var server = new FakeServer("d1", max: 1);
        await using var farm = await SchedulerFarm.StartAsync(1, env =>
            env["ConnectionStrings__Postgres"] = new NpgsqlConnectionStringBuilder(env["ConnectionStrings__Postgres"]) { Port = database.Port }.ConnectionString, server);
        farm.StartHeartbeats();
        var request = SchedulerFarm.Request("alice", "normal");
        await farm.Bus.Publish(request);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Building") == 1, "the build is running");

        // Longer than the saga endpoint's own retries (about 9 s): the build's end, heartbeats and a new request
        // wait in their queues meanwhile.
        database.Cut();
        await farm.FinishAsync(server, request.BuildId, 1);
        var during = SchedulerFarm.Request("bob", "normal");
        await farm.Bus.Publish(during);
        await Task.Delay(TimeSpan.FromSeconds(15));
        database.Restore();

        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.BuildId == during.BuildId)), "the build requested meanwhile is dispatched");
        await farm.FinishAsync(server, during.BuildId, 1);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 2, "both builds completed");
        Assert.All(await farm.BuildsAsync(), b => Assert.Equal(1, b.Attempt));
        Assert.Equal(2, farm.Dispatches.Count);
        var queues = await TestServers.QueuesAsync(farm.VirtualHost);
        Assert.All(queues.Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal) || q.Name.EndsWith("_skipped", StringComparison.Ordinal)),
            q => Assert.Equal(0, q.Messages));
    }
}
