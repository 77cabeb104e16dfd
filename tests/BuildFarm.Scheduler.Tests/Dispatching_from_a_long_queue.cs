using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Persistence;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// A pass reads only the head of the queue: the first builds of each (submitter, priority), as far as the free slots
/// ask. These tests hold that this places exactly what ordering the whole queue would, and that a pass on a full farm
/// reads no queue at all.
/// </summary>
public sealed class Dispatching_from_a_long_queue
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Aging = TimeSpan.FromMinutes(15);

    [Fact]
    public void The_first_builds_of_each_submitter_and_priority_hold_the_first_builds_of_the_whole_order()
    {
        for (var seed = 1; seed <= 300; seed++)
        {
            var random = new Random(seed);
            var queue = Enumerable.Range(0, random.Next(1, 120)).Select(_ => RandomBuild(random, unplaceableShare: 0)).ToList();
            var served = Enumerable.Range(0, 6).Where(_ => random.Next(2) == 0).ToDictionary(i => $"u{i}", _ => random.Next(0, 4));
            var whole = QueueOrder.Order(queue, Now, Aging, served);
            foreach (var k in new[] { 1, 2, 3, 5, 8, 13 })
            {
                var head = queue.GroupBy(b => (b.SubmittedBy, b.Priority))
                    .SelectMany(g => g.OrderBy(b => b.SubmittedAt).ThenBy(b => b.BuildId).Take(k)).ToList();

                Assert.Equal(whole.Take(k).Select(b => b.BuildId), QueueOrder.Order(head, Now, Aging, served).Take(k).Select(b => b.BuildId));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task A_pass_places_exactly_what_ordering_the_whole_queue_would(int seed)
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 6);
        var random = new Random(seed);
        // Half the queue can go nowhere (no server has riscv64), so the pass must read past its first heads.
        var queue = Enumerable.Range(0, 3000).Select(_ => RandomBuild(random, unplaceableShare: 0.5)).ToList();
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild", "mock"], max: 3);
        await farm.AddServerAsync("s2", "x86_64", ["mock"], max: 2);
        await farm.AddServerAsync("s3", "aarch64", ["rpmbuild"], max: 2);
        await farm.AddServerAsync("s4", "x86_64", ["rpmbuild"], max: 2, maintenance: true);
        await farm.AddBuildingAsync("s1", "u1");
        await farm.AddQueuedAsync(queue);
        var expected = await farm.PlaceTheWholeQueueAsync();

        var pass = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, pass.Placed);
        Assert.Equal(expected.Order(), (await farm.PlacementsAsync()).Order());
        Assert.InRange(pass.QueueRead, 1, queue.Count);
    }

    [Fact]
    public async Task A_pass_on_a_full_farm_reads_no_queue_and_a_freed_slot_reads_only_the_heads()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 2);
        var random = new Random(7);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild", "mock"], max: 4);
        await farm.AddServerAsync("s3", "aarch64", ["rpmbuild"], max: 4);
        await farm.AddQueuedAsync(Enumerable.Range(0, 2000).Select(_ => RandomBuild(random, unplaceableShare: 0)).ToList());
        var running = await farm.AddBuildingAsync("s1", "u0");
        await farm.AddBuildingAsync("s1", "u2");
        // Full: the limit's 2 and the one build placed ahead of it (ReadyAheadPercent 10, at least one).
        await farm.AddBuildingAsync("s1", "u4");

        var full = await farm.Dispatcher.RunPassAsync(CancellationToken.None);
        await farm.ExecuteAsync("UPDATE build_state SET current_state = 'Completed' WHERE correlation_id = $1", running);
        var freed = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        Assert.Equal((0, 0), (full.Placed, full.QueueRead));
        Assert.Equal(1, freed.Placed);
        // The first few builds of each (submitter, priority) that has queued builds (6 submitters x 4 priorities at most),
        // not the 2,000.
        Assert.InRange(freed.QueueRead, 1, 24 * Dispatcher.MinHead);
    }

    [Fact]
    public async Task A_pass_reads_no_queue_when_no_queued_build_needs_what_the_free_servers_offer()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 8);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild", "mock"], max: 4);
        await farm.AddServerAsync("s3", "aarch64", ["rpmbuild"], max: 1);
        await farm.AddBuildingAsync("s3", "u0");
        // A mass rebuild for aarch64, whose one server is busy, and one build that names s3.
        var random = new Random(3);
        var queue = Enumerable.Range(0, 2000).Select(_ => RandomBuild(random, unplaceableShare: 0) with { TargetArchitecture = "aarch64", Toolchain = "rpmbuild" })
            .Append(RandomBuild(random, unplaceableShare: 0) with { TargetArchitecture = "x86_64", Toolchain = "rpmbuild", RequestedServerId = "s3" })
            .ToList();
        await farm.AddQueuedAsync(queue);

        var idle = await farm.Dispatcher.RunPassAsync(CancellationToken.None);
        // Urgent, from a submitter that has had no turn yet: among the first of the order.
        var served = RandomBuild(random, unplaceableShare: 0) with
        {
            Priority = BuildPriority.Urgent, SubmittedBy = "probe", TargetArchitecture = "x86_64", Toolchain = "mock", RequestedServerId = null, RetryAt = null, SubmittedAt = SchedulerDatabase.Now,
        };
        await farm.AddQueuedAsync([served]);
        var next = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        Assert.Equal((0, 0), (idle.Placed, idle.QueueRead));
        Assert.Equal(1, next.Placed);
        Assert.Equal([(served.BuildId, "s1")], await farm.PlacementsAsync());
        // s1 still has free slots, but nothing left in the queue could use them: the pass read the head of the queue
        // (16 builds of each submitter and priority), where it found the one, and no more of it.
        Assert.InRange(next.QueueRead, 1, queue.Count / 2);
    }

    [Fact]
    public async Task A_pass_gives_no_submitter_or_project_more_builds_on_servers_than_its_cap()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 12, settings: s => s with { MaxRunningPerSubmitter = 2, MaxRunningPerProject = 3 });
        var random = new Random(11);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild", "mock"], max: 8);
        await farm.AddServerAsync("s3", "aarch64", ["rpmbuild", "mock"], max: 8);
        await farm.AddBuildingAsync("s1", "u0");
        // Ten projects; most builds come from u0 and u1 and from the first projects.
        var queue = Enumerable.Range(0, 400).Select(_ => RandomBuild(random, unplaceableShare: 0) with
        {
            SourceRepository = $"https://example.org/p{(int)Math.Floor(Math.Pow(random.NextDouble(), 2) * 10)}.git",
        }).ToList();
        await farm.AddQueuedAsync(queue);
        var expected = await farm.PlaceTheWholeQueueAsync();

        var pass = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        var placed = (await farm.PlacementsAsync()).Select(p => queue.Single(b => b.BuildId == p.Item1)).ToList();
        Assert.Equal(expected.Order(), (await farm.PlacementsAsync()).Order());
        Assert.True(pass.Placed >= 6, $"placed {pass.Placed}");
        // u0 already has one build running (on project r.git): one more at most.
        Assert.All(placed.GroupBy(b => b.SubmittedBy), g => Assert.True(g.Count() <= (g.Key == "u0" ? 1 : 2), $"{g.Key}: {g.Count()}"));
        Assert.All(placed.GroupBy(b => b.SourceRepository), g => Assert.True(g.Count() <= 3, $"{g.Key}: {g.Count()}"));
    }

    private static QueuedBuild RandomBuild(Random random, double unplaceableShare)
    {
        var arch = random.NextDouble() < unplaceableShare ? "riscv64" : random.Next(3) == 0 ? "aarch64" : "x86_64";
        var retry = random.Next(20) switch
        {
            0 => Now.AddMinutes(10),
            1 => Now.AddMinutes(-1),
            _ => (DateTimeOffset?)null,
        };
        var requested = random.Next(40) switch
        {
            0 => "s2",
            1 => "s4",
            _ => null,
        };
        // A skewed mix of submitters, so some have long runs of builds and others a few.
        var who = $"u{(int)Math.Floor(Math.Pow(random.NextDouble(), 2) * 6)}";
        return new QueuedBuild(Guid.NewGuid(), (BuildPriority)random.Next(4), who,
            Now - TimeSpan.FromSeconds(random.Next(0, 100 * 60)), arch, random.Next(2) == 0 ? "rpmbuild" : "mock", requested,
            "https://example.org/r.git", retry, random.Next(10) == 0 ? 1 : 0);
    }
}
