using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;

namespace BuildFarm.Scheduler.Tests;

public sealed class Placing_a_build
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static ServerSnapshot Server(string id, int assigned = 0, int max = 4, string arch = "x86_64", string toolchain = "mock:fedora-40-x86_64",
        double cpu = 10, bool online = true, bool maintenance = false) =>
        new(id, id + ".local", [arch, "noarch"], [toolchain, "rpmbuild"], max, cpu, 20, 30, maintenance, online, Now, assigned);

    private static QueuedBuild Build(string arch = "x86_64", string toolchain = "mock:fedora-40-x86_64", string? server = null) =>
        new(Guid.NewGuid(), BuildPriority.Normal, "alice", Now, arch, toolchain, server, "https://example.org/r.git", null);

    private static readonly FarmCapacity Room = new(0, 10);

    [Fact]
    public void The_least_loaded_server_that_can_take_it_wins()
    {
        var decision = Placement.Choose(Build(), [Server("b1", assigned: 3), Server("b2", assigned: 1), Server("b3", assigned: 1, cpu: 50)], Room, 85);

        Assert.Equal("b2", decision.Server?.ServerId);
    }

    [Fact]
    public void A_missing_architecture_is_named()
    {
        var decision = Placement.Choose(Build(arch: "aarch64"), [Server("b1"), Server("b2", online: false, arch: "aarch64")], Room, 85);

        Assert.Null(decision.Server);
        Assert.Equal("no online server has architecture aarch64", decision.WhyWaiting);
    }

    [Fact]
    public void Full_servers_are_counted()
    {
        var decision = Placement.Choose(Build(), [Server("b1", assigned: 4), Server("b2", assigned: 2, max: 2), Server("b3", assigned: 4)], Room, 85);

        Assert.Equal("all 3 servers with mock:fedora-40-x86_64 for x86_64 are full", decision.WhyWaiting);
    }

    [Fact]
    public void The_farm_wide_limit_holds_even_with_free_servers()
    {
        var decision = Placement.Choose(Build(), [Server("b1")], new FarmCapacity(4, 4), 85);

        Assert.Equal("farm-wide limit reached (4 of 4 slots)", decision.WhyWaiting);
    }

    [Fact]
    public void Builds_placed_ahead_of_the_limit_wait_at_servers_up_to_their_number()
    {
        var ahead = Placement.Choose(Build(), [Server("b1")], new FarmCapacity(4, 4) { Ahead = 1 }, 85);
        var full = Placement.Choose(Build(), [Server("b1")], new FarmCapacity(5, 4) { Ahead = 1 }, 85);

        Assert.Equal("b1", ahead.Server?.ServerId);
        Assert.True(new FarmCapacity(4, 4).PlacesAhead);
        Assert.False(new FarmCapacity(3, 4).PlacesAhead);
        Assert.Null(full.Server);
        Assert.Equal("farm-wide limit reached (4 of 4 slots, and 1 more builds placed at servers to take the next)", full.WhyWaiting);
    }

    [Theory]
    [InlineData(10, 1, 1)]
    [InlineData(10, 20, 2)]
    [InlineData(10, 25, 3)]
    [InlineData(0, 20, 0)]
    [InlineData(50, 0, 0)]
    public void How_many_builds_are_placed_ahead(int percent, int limit, int ahead) =>
        Assert.Equal(ahead, new SchedulerOptions { ReadyAheadPercent = percent }.ReadyAhead(limit));

    [Fact]
    public void A_named_server_in_maintenance_is_waited_for()
    {
        var decision = Placement.Choose(Build(server: "b2"), [Server("b1"), Server("b2", maintenance: true)], Room, 85);

        Assert.Null(decision.Server);
        Assert.Equal("server b2 is in maintenance", decision.WhyWaiting);
    }

    [Fact]
    public void Servers_over_the_utilisation_threshold_take_nothing()
    {
        var decision = Placement.Choose(Build(), [Server("b1", cpu: 91)], Room, 85);

        Assert.Equal("server b1 is above the 85% utilisation threshold", decision.WhyWaiting);
    }

    [Fact]
    public void A_missing_toolchain_is_named()
    {
        var decision = Placement.Choose(Build(toolchain: "mock:epel-9-x86_64"), [Server("b1")], Room, 85);

        Assert.Equal("no online server has mock:epel-9-x86_64 for x86_64", decision.WhyWaiting);
    }

    [Fact]
    public void A_threshold_of_100_percent_never_holds_a_server_back()
    {
        var decision = Placement.Choose(Build(), [Server("b1", cpu: 100)], Room, 100);

        Assert.Equal("b1", decision.Server?.ServerId);
    }

    [Fact]
    public void A_submitter_or_project_at_its_cap_waits_and_says_so_while_others_are_placed()
    {
        var caps = new ShareCaps(2, 3, new() { ["alice"] = 2, ["bob"] = 1 }, new() { ["https://example.org/r.git"] = 3, ["https://example.org/s.git"] = 1 });
        var room = Room with { Shares = caps };
        var bob = Build() with { SubmittedBy = "bob", SourceRepository = "https://example.org/s.git" };

        var alice = Placement.Choose(Build() with { SourceRepository = "https://example.org/s.git" }, [Server("b1")], room, 85);
        var project = Placement.Choose(bob with { SourceRepository = "https://example.org/r.git" }, [Server("b1")], room, 85);
        var placed = Placement.Choose(bob, [Server("b1")], room, 85);
        caps.Add(bob);
        var bobAtCap = Placement.Choose(bob, [Server("b1")], room, 85);
        var uncapped = Placement.Choose(Build(), [Server("b1")], Room, 85);

        Assert.Equal("submitter alice has 2 builds on servers, the most one submitter may have (maxRunningPerSubmitter 2)", alice.WhyWaiting);
        Assert.Equal("project https://example.org/r.git has 3 builds on servers, the most one project may have (maxRunningPerProject 3)", project.WhyWaiting);
        Assert.Equal("b1", placed.Server?.ServerId);
        Assert.Null(bobAtCap.Server);
        Assert.Equal("b1", uncapped.Server?.ServerId);
    }
}
