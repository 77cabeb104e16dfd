using BuildFarm.Contracts;
using BuildFarm.Scheduler.Consumers;
using BuildFarm.Testing;
using MassTransit;

namespace BuildFarm.Scheduler.Tests;

/// <summary>Heartbeats keep the registry; only those that change what the dispatcher could do wake it.</summary>
public sealed class Hearing_from_build_servers
{
    [Fact]
    public async Task A_heartbeat_wakes_the_dispatcher_only_when_it_changes_what_can_be_placed()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 4, x => x.AddConsumer<RecordHeartbeatConsumer>());
        var instance = Guid.NewGuid();
        var beat = new BuildServerHeartbeat
        {
            ServerId = "b1", InstanceId = instance, Host = "b1.example.org", Architectures = ["x86_64", "noarch"],
            Toolchains = ["rpmbuild"], MaxConcurrentBuilds = 2, ActiveBuilds = 0, CpuPercent = 10, MemoryPercent = 20,
            DiskPercent = 30, Maintenance = false, Version = "1", Interval = TimeSpan.FromSeconds(5), SentAt = SchedulerDatabase.Now,
        };
        var running = new RunningAttempt { BuildId = Guid.NewGuid(), Attempt = 1 };

        var woke = new List<(string, bool)>();
        async Task Beat(string what, BuildServerHeartbeat heartbeat)
        {
            var id = NewId.NextGuid();
            await farm.Harness.Bus.Publish(heartbeat, c => c.MessageId = id);
            await Eventually.HoldsAsync(() => farm.Harness.Consumed.Select<BuildServerHeartbeat>(c => c.Context.MessageId == id).Any(), what);
            // The consumer pokes after its commit, before the harness records the message as consumed.
            woke.Add((what, await farm.Signal.WaitAsync(TimeSpan.Zero, CancellationToken.None)));
        }

        await Beat("a new server", beat);
        await Beat("the same again", beat);
        await Beat("load moves below the threshold", beat with { CpuPercent = 60, MemoryPercent = 40, ActiveBuilds = 1 });
        await Beat("cpu crosses the threshold", beat with { CpuPercent = 90 });
        await Beat("cpu falls back", beat with { CpuPercent = 50 });
        await Beat("maintenance", beat with { CpuPercent = 50, Maintenance = true });
        await Beat("back from maintenance", beat with { CpuPercent = 50 });
        await Beat("another slot", beat with { CpuPercent = 50, MaxConcurrentBuilds = 3 });
        await Beat("a toolchain added", beat with { CpuPercent = 50, MaxConcurrentBuilds = 3, Toolchains = ["rpmbuild", "mock:fedora-41-x86_64"] });
        await Beat("an attempt listed", beat with { CpuPercent = 50, MaxConcurrentBuilds = 3, Toolchains = ["rpmbuild", "mock:fedora-41-x86_64"], Running = [running] });
        await Beat("still listed", beat with { CpuPercent = 55, MaxConcurrentBuilds = 3, Toolchains = ["mock:fedora-41-x86_64", "rpmbuild"], Running = [running] });
        await Beat("no longer listed", beat with { CpuPercent = 55, MaxConcurrentBuilds = 3, Toolchains = ["rpmbuild", "mock:fedora-41-x86_64"] });
        await Beat("a restarted worker", beat with { InstanceId = Guid.NewGuid(), CpuPercent = 55, MaxConcurrentBuilds = 3, Toolchains = ["rpmbuild", "mock:fedora-41-x86_64"] });

        Assert.Equal(
        [
            ("a new server", true), ("the same again", false), ("load moves below the threshold", false),
            ("cpu crosses the threshold", true), ("cpu falls back", true), ("maintenance", true), ("back from maintenance", true),
            ("another slot", true), ("a toolchain added", true), ("an attempt listed", true), ("still listed", false),
            ("no longer listed", true), ("a restarted worker", true),
        ], woke);
    }
}
