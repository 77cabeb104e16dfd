using BuildFarm.Scheduler.Consumers;

namespace BuildFarm.Scheduler.Tests;

/// <summary>A Worker restarted (killed with SIGKILL, started again) before it missed three heartbeats.</summary>
public sealed class Restarting_a_build_server
{
    [Fact]
    public async Task A_build_the_earlier_process_ran_is_declared_lost_at_once_and_built_again_as_a_new_attempt()
    {
        var server = new FakeServer("restart-1", max: 1);
        server.Restart();
        await using var farm = await SchedulerFarm.StartAsync(1, server);
        farm.StartHeartbeats();
        await farm.WaitUntilAsync(async () => await farm.ServersOnlineAsync() == 1, "the server is registered");
        var request = SchedulerFarm.Request("alice", "normal");
        await farm.Bus.Publish(request);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Building") == 1, "the build runs");

        // The Worker dies with its build and is back at once: it never misses a heartbeat.
        server.Restart();

        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.Attempt == 2)), "the build is dispatched again");
        var retry = farm.Dispatches.Single(d => d.Attempt == 2);
        await farm.FinishAsync(server, retry.BuildId, retry.Attempt);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 1, "the build completes");

        Assert.Equal(request.BuildId, retry.BuildId);
        Assert.Equal(server.Id, retry.ServerId);
        Assert.Contains(await farm.HistoryAsync(request.BuildId), r => r.Contains(RecordHeartbeatConsumer.RestartedReason, StringComparison.Ordinal));
        Assert.Equal(1, server.Peak);
    }

    [Fact]
    public async Task A_build_only_dispatched_is_left_to_the_new_process_which_takes_it_from_the_queue()
    {
        var server = new FakeServer("restart-2", max: 1) { Holding = true };
        server.Restart();
        await using var farm = await SchedulerFarm.StartAsync(1, server);
        farm.StartHeartbeats();
        await farm.WaitUntilAsync(async () => await farm.ServersOnlineAsync() == 1, "the server is registered");
        var request = SchedulerFarm.Request("alice", "normal");
        await farm.Bus.Publish(request);
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Count == 1), "the build is dispatched");

        server.Restart();
        var instance = server.Instance;
        await farm.WaitUntilAsync(async () => (await farm.ServerInstanceAsync(server.Id)).Instance == instance, "the new process reports");
        var first = (await farm.ServerInstanceAsync(server.Id)).LastSeen;
        await farm.WaitUntilAsync(async () => (await farm.ServerInstanceAsync(server.Id)).LastSeen > first.AddMilliseconds(900),
            "two more heartbeats of the new process are recorded");

        Assert.Equal(1, await farm.CountAsync("Dispatched"));
        await farm.StartHeldAsync(server, farm.Dispatches.Single());
        await farm.FinishAsync(server, request.BuildId, 1);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 1, "the build completes");
        Assert.Single(farm.Dispatches);
        Assert.DoesNotContain(await farm.HistoryAsync(request.BuildId), r => r.Contains(RecordHeartbeatConsumer.RestartedReason, StringComparison.Ordinal));
    }
}
