using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.Scheduler.Status;

namespace BuildFarm.Scheduler.Tests;

public sealed class Estimating_the_wait
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private const string Repo = "https://example.org/r.git";

    private static ServerSnapshot Server(string id, int max, int assigned, string arch = "x86_64") =>
        new(id, id, [arch], ["rpmbuild"], max, 5, 5, 5, false, true, Now, assigned);

    private static QueuedBuild Build(int minutesAgo, string who = "alice", string arch = "x86_64") =>
        new(Guid.NewGuid(), BuildPriority.Normal, who, Now - TimeSpan.FromMinutes(minutesAgo), arch, "rpmbuild", null, Repo, null);

    private static DurationModel TenMinuteBuilds() =>
        new(Enumerable.Repeat((Repo, "x86_64", "rpmbuild", TimeSpan.FromMinutes(10)), 3), TimeSpan.FromMinutes(5));

    [Fact]
    public void A_build_behind_others_starts_when_enough_slots_have_freed()
    {
        // One server, two slots, both busy: one ends in 2 minutes, one in 6. Two builds wait ahead of ours.
        var servers = new[] { Server("b1", max: 2, assigned: 2) };
        var running = new[]
        {
            new RunningBuild(Guid.NewGuid(), "b1", Now - TimeSpan.FromMinutes(8), Repo, "x86_64", "rpmbuild", "normal"),
            new RunningBuild(Guid.NewGuid(), "b1", Now - TimeSpan.FromMinutes(4), Repo, "x86_64", "rpmbuild", "normal"),
        };
        var first = Build(30, "a");
        var second = Build(20, "b");
        var ours = Build(10, "c");
        var snapshot = new FarmSnapshot(servers, [ours, first, second], 2);

        var report = new QueueEstimator(snapshot, running, TenMinuteBuilds(), new FarmSettings(), TimeSpan.FromMinutes(15), Now).Queued(ours, null);

        // Slots free at +2 and +6; first takes +2 (ends +12), second takes +6 (ends +16): ours starts at +12.
        Assert.Equal(3, report.QueuePosition);
        Assert.Equal(3, report.CompetingBuilds);
        Assert.Equal(Now + TimeSpan.FromMinutes(12), report.EstimatedStartAt);
        Assert.Equal(TimeSpan.FromMinutes(10), report.EstimatedDuration);
        Assert.Equal("server b1 is full (2 of 2 builds); 2 build(s) ahead of it", report.WhyWaiting);
    }

    [Fact]
    public void Builds_for_other_servers_do_not_count_as_ahead()
    {
        var servers = new[] { Server("b1", max: 1, assigned: 1), Server("arm", max: 1, assigned: 0, arch: "aarch64") };
        var armBuild = Build(30, "a", arch: "aarch64");
        var ours = Build(10, "c");
        var snapshot = new FarmSnapshot(servers, [armBuild, ours], 1);

        var report = new QueueEstimator(snapshot, [], TenMinuteBuilds(), new FarmSettings(), TimeSpan.FromMinutes(15), Now).Queued(ours, null);

        Assert.Equal(1, report.QueuePosition);
        Assert.Equal(1, report.CompetingBuilds);
    }

    [Fact]
    public void No_server_for_the_architecture_means_no_estimate_and_says_why()
    {
        var snapshot = new FarmSnapshot([Server("b1", max: 2, assigned: 0)], [Build(1, arch: "aarch64")], 0);

        var report = new QueueEstimator(snapshot, [], TenMinuteBuilds(), new FarmSettings(), TimeSpan.FromMinutes(15), Now).Queued(snapshot.Queue[0], null);

        Assert.Null(report.EstimatedStartAt);
        Assert.Equal("no online server has architecture aarch64", report.WhyWaiting);
    }

    [Fact]
    public void Durations_fall_back_from_repository_to_toolchain_to_default()
    {
        var model = new DurationModel([(Repo, "x86_64", "rpmbuild", TimeSpan.FromMinutes(3)), ("other", "x86_64", "rpmbuild", TimeSpan.FromMinutes(9))], TimeSpan.FromMinutes(5));

        Assert.Equal(TimeSpan.FromMinutes(3), model.Expected(Repo, "x86_64", "rpmbuild").Duration);
        Assert.Equal(TimeSpan.FromMinutes(6), model.Expected("new", "x86_64", "rpmbuild").Duration);
        Assert.Equal(TimeSpan.FromMinutes(5), model.Expected(Repo, "aarch64", "rpmbuild").Duration);
    }

    [Fact]
    public void A_new_build_for_an_idle_architecture_waits_nothing()
    {
        var snapshot = new FarmSnapshot([Server("b1", max: 2, assigned: 0)], [], 0);

        var wait = new QueueEstimator(snapshot, [], TenMinuteBuilds(), new FarmSettings(), TimeSpan.FromMinutes(15), Now).NewBuildWait("x86_64");

        Assert.Equal(TimeSpan.Zero, wait.Wait);
    }
}
