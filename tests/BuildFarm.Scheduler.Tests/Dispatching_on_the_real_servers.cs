using BuildFarm.Contracts;
using MassTransit;

namespace BuildFarm.Scheduler.Tests;

public sealed class Dispatching_on_the_real_servers
{
    [Fact]
    public async Task Two_scheduler_instances_never_dispatch_a_build_twice_nor_overfill_a_server()
    {
        var s1 = new FakeServer("s1", max: 2, finishAfter: TimeSpan.FromMilliseconds(150));
        var s2 = new FakeServer("s2", max: 3, finishAfter: TimeSpan.FromMilliseconds(150));
        await using var farm = await SchedulerFarm.StartAsync(2, s1, s2);
        farm.StartHeartbeats();
        var requests = Enumerable.Range(0, 40).Select(i => SchedulerFarm.Request($"user{i % 3}", "normal")).ToList();

        foreach (var request in requests)
        {
            await farm.Bus.Publish(request);
        }
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == requests.Count, "all 40 builds completed");

        var dispatches = farm.Dispatches.ToList();
        var twice = await RedispatchedAsync(farm);
        Assert.True(twice.Length == 0, $"dispatched more than once:\n{twice}\n{s1.Timeline()}\n{s2.Timeline()}");
        Assert.Equal(requests.Count, dispatches.Count);
        Assert.Equal(requests.Select(r => r.BuildId).Order(), dispatches.Select(d => d.BuildId).Order());
        Assert.All(dispatches, d => Assert.Equal(1, d.Attempt));
        Assert.InRange(s1.Peak, 1, 2);
        Assert.InRange(s2.Peak, 1, 3);
    }

    [Fact]
    public async Task A_freed_slot_goes_to_the_next_build_by_priority_then_submitters_in_turn()
    {
        var server = new FakeServer("solo", max: 1);
        await using var farm = await SchedulerFarm.StartAsync(1, server);
        var alice = Enumerable.Range(0, 3).Select(_ => SchedulerFarm.Request("alice", "normal")).ToList();
        var bob = SchedulerFarm.Request("bob", "normal");
        var carol = SchedulerFarm.Request("carol", "low");
        var dave = SchedulerFarm.Request("dave", "URGENT");
        var queue = new List<BuildRequested> { alice[0], alice[1], alice[2], carol, bob, dave };
        foreach (var request in queue)
        {
            await farm.Bus.Publish(request);
            await Task.Delay(20); // distinct submission times
        }
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Queued") == queue.Count, "all builds are queued");

        farm.StartHeartbeats();
        var order = new List<Guid>();
        while (order.Count < queue.Count)
        {
            await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Count > order.Count), $"dispatch number {order.Count + 1}");
            var next = farm.Dispatches.ElementAt(order.Count);
            order.Add(next.BuildId);
            await farm.FinishAsync(server, next.BuildId, next.Attempt);
        }

        Guid[] expected = [dave.BuildId, alice[0].BuildId, bob.BuildId, alice[1].BuildId, alice[2].BuildId, carol.BuildId];
        Assert.Equal(expected, order);
        Assert.Equal(1, server.Peak);
    }

    [Fact]
    public async Task A_waiting_build_says_why_and_where_it_stands()
    {
        var server = new FakeServer("x1", max: 1);
        await using var farm = await SchedulerFarm.StartAsync(1, server);
        farm.StartHeartbeats();
        var client = farm.Bus.CreateRequestClient<GetBuildStatus>();

        var arm = SchedulerFarm.Request("alice", "normal", arch: "aarch64");
        var running = SchedulerFarm.Request("alice", "normal");
        var waiting = SchedulerFarm.Request("bob", "normal");
        await farm.Bus.Publish(arm);
        await farm.Bus.Publish(running);
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.BuildId == running.BuildId)), "the first build is dispatched");
        await farm.Bus.Publish(waiting);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Queued") == 2, "two builds wait");

        var armStatus = (await client.GetResponse<BuildStatusReport>(new GetBuildStatus { BuildId = arm.BuildId })).Message;
        var waitingStatus = (await client.GetResponse<BuildStatusReport>(new GetBuildStatus { BuildId = waiting.BuildId })).Message;
        var queue = (await farm.Bus.CreateRequestClient<GetQueueStatus>().GetResponse<QueueStatusReport>(new GetQueueStatus())).Message;

        Assert.Equal("Queued", armStatus.State);
        Assert.Equal("no online server has architecture aarch64", armStatus.WhyWaiting);
        Assert.Null(armStatus.EstimatedStartAt);
        Assert.Equal("server x1 is full (1 of 1 builds)", waitingStatus.WhyWaiting);
        Assert.Equal(1, waitingStatus.QueuePosition);
        Assert.NotNull(waitingStatus.EstimatedStartAt);
        Assert.Equal(2, queue.Queued);
        Assert.Equal(1, queue.Building);
        Assert.Equal(1, queue.QueuedByArchitecture["aarch64"]);
        Assert.Equal(2, queue.QueuedByPriority["normal"]);
        Assert.Contains(queue.EstimatedWait, w => w.Architecture == "x86_64" && w.Wait is not null);

        server.Maintenance = true;
        await farm.WaitUntilAsync(async () =>
            (await client.GetResponse<BuildStatusReport>(new GetBuildStatus { BuildId = waiting.BuildId })).Message.WhyWaiting == "server x1 is in maintenance",
            "the maintenance shows in the reason");
    }

    [Fact]
    public async Task A_build_on_a_server_that_stops_heartbeating_goes_to_another_server_as_a_new_attempt()
    {
        var first = new FakeServer("a-first", max: 1);
        var second = new FakeServer("b-second", max: 1);
        await using var farm = await SchedulerFarm.StartAsync(1, first, second);
        farm.StartHeartbeats();
        var request = SchedulerFarm.Request("alice", "normal");
        await farm.WaitUntilAsync(async () => (await farm.ServersOnlineAsync()) == 2, "both servers are registered");

        await farm.Bus.Publish(request);
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.ServerId == first.Id)), "the build is dispatched to the first server");
        first.Silent = true;
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.ServerId == second.Id)), "the build is dispatched again elsewhere");
        var retry = farm.Dispatches.Single(d => d.ServerId == second.Id);
        await farm.FinishAsync(second, retry.BuildId, retry.Attempt);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 1, "the build completes");

        Assert.Equal(2, retry.Attempt);
        Assert.Equal(request.BuildId, retry.BuildId);
    }

    [Fact]
    public async Task A_build_declared_lost_while_its_server_still_runs_it_keeps_its_slot_there_until_the_server_stops_listing_it()
    {
        var server = new FakeServer("lost-1", max: 1);
        await using var farm = await SchedulerFarm.StartAsync(1, server);
        farm.StartHeartbeats();
        var client = farm.Bus.CreateRequestClient<GetBuildStatus>();
        var first = SchedulerFarm.Request("alice", "normal");
        var second = SchedulerFarm.Request("bob", "normal");
        await farm.WaitUntilAsync(async () => await farm.ServersOnlineAsync() == 1, "the server is registered");
        await farm.Bus.Publish(first);
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Any(d => d.BuildId == first.BuildId)), "the first build is dispatched");

        // The Scheduler stops hearing the server (as after a restart under load): the build is declared lost and
        // queued again, while the server goes on running it.
        server.Silent = true;
        await farm.WaitUntilAsync(async () => await farm.ServersOnlineAsync() == 0, "the server is declared offline");
        await farm.Bus.Publish(second);
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Queued") == 2, "both builds are queued");
        server.Silent = false;

        // Back online, the server's heartbeat lists the lost attempt: its slot is taken.
        await farm.WaitUntilAsync(async () =>
            (await client.GetResponse<BuildStatusReport>(new GetBuildStatus { BuildId = second.BuildId })).Message.WhyWaiting
                == "server lost-1 is full (1 of 1 builds)",
            "the second build waits for the slot the lost attempt holds");
        Assert.DoesNotContain(farm.Dispatches, d => d.BuildId == second.BuildId);
        Assert.Single(farm.Dispatches);

        // Once the server ended the lost attempt, both builds run there, one at a time.
        await farm.FinishAsync(server, first.BuildId, 1);
        for (var finished = 1; finished < 3; finished++)
        {
            await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Count > finished), $"dispatch number {finished + 1}");
            var next = farm.Dispatches.ElementAt(finished);
            await farm.FinishAsync(server, next.BuildId, next.Attempt);
        }
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == 2, "both builds complete");

        Assert.Equal(1, server.Peak);
        Assert.Equal(2, farm.Dispatches.Single(d => d.BuildId == first.BuildId && d.Attempt > 1).Attempt);
    }

    [Fact]
    public async Task Killing_the_scheduler_again_and_again_loses_no_build_and_completes_none_twice()
    {
        var s1 = new FakeServer("k1", max: 2, finishAfter: TimeSpan.FromMilliseconds(400));
        var s2 = new FakeServer("k2", max: 2, finishAfter: TimeSpan.FromMilliseconds(400));
        await using var farm = await SchedulerFarm.StartAsync(1, s1, s2);
        farm.StartHeartbeats();
        var requests = Enumerable.Range(0, 24).Select(i => SchedulerFarm.Request($"user{i % 4}", "normal")).ToList();
        foreach (var request in requests)
        {
            await farm.Bus.Publish(request);
        }

        for (var kill = 0; kill < 3; kill++)
        {
            await farm.WaitUntilAsync(() => Task.FromResult(farm.Dispatches.Count > kill * 4), $"dispatches before kill {kill + 1}");
            await farm.KillAndRestartAsync(0);
        }
        await farm.WaitUntilAsync(async () => await farm.CountAsync("Completed") == requests.Count, "every build completed", seconds: 180);

        var builds = await farm.BuildsAsync();
        Assert.Equal(requests.Select(r => r.BuildId).Order(), builds.Select(b => b.Id).Order());
        Assert.All(builds, b => Assert.Equal(("Completed", 1), (b.State, b.Completions)));
        Assert.True(s1.Peak is >= 1 and <= 2 && s2.Peak is >= 1 and <= 2,
            $"peaks {s1.Peak} and {s2.Peak} on servers of 2:\n{s1.Timeline()}\n{s2.Timeline()}\n{await RedispatchedAsync(farm)}");
    }

    /// <summary>Each build dispatched more than once, with its attempts and history (empty when none was).</summary>
    private static async Task<string> RedispatchedAsync(SchedulerFarm farm)
    {
        var lines = new List<string>();
        foreach (var build in farm.Dispatches.GroupBy(d => d.BuildId).Where(g => g.Count() > 1))
        {
            lines.Add($"{build.Key} attempts {string.Join("/", build.Select(d => d.Attempt))}: {string.Join(" | ", await farm.HistoryAsync(build.Key))}");
        }
        return string.Join("\n", lines);
    }
}
