using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults.Bus;
using Microsoft.Extensions.Options;

namespace BuildFarm.Scheduler.Tests;

/// <summary>The table of who may send what (the real-broker side is in the end-to-end tests' Guarding_the_bus_door).</summary>
public sealed class Checking_who_sent_a_message
{
    private static readonly BusSenderPolicy Policy = new(Options.Create(new BusSenderOptions()));
    private static readonly Guid Build = Guid.NewGuid();

    private static BuildRunFinished Finished(string server, BuildRunOutcome outcome = BuildRunOutcome.Succeeded) => new()
    {
        BuildId = Build, Attempt = 1, ServerId = server, Outcome = outcome, FinishedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void A_build_server_speaks_only_for_itself()
    {
        Assert.True(Policy.Allows("worker-b1", Finished("b1")));
        // Server ids are case-insensitive: B1's queue and RabbitMQ user are build-server-b1 and worker-b1.
        Assert.True(Policy.Allows("worker-b1", Finished("B1")));
        Assert.False(Policy.Allows("worker-B1", Finished("B1")));
        Assert.False(Policy.Allows("worker-b2", Finished("b1")));
        Assert.False(Policy.Allows("worker-b1", Finished("b1x")));
        Assert.False(Policy.Allows("publisher", Finished("b1")));
        Assert.False(Policy.Allows(null, Finished("b1")));
        Assert.True(Policy.Allows("worker-b1", new BuildLogAppended
        {
            BuildId = Build, Attempt = 1, ServerId = "b1", Stream = "stdout", Sequence = 1, Offset = 0, Text = "", At = DateTimeOffset.UnixEpoch,
        }));
    }

    [Fact]
    public void The_scheduler_may_end_an_attempt_only_as_lost()
    {
        Assert.True(Policy.Allows("scheduler", Finished("b1", BuildRunOutcome.InfrastructureFailed)));
        Assert.False(Policy.Allows("scheduler", Finished("b1", BuildRunOutcome.Succeeded)));
    }

    [Fact]
    public void Orders_settings_and_cancels_come_only_from_their_service()
    {
        Assert.True(Policy.Allows("submission", new CancelBuild { BuildId = Build }));
        Assert.False(Policy.Allows("publisher", new CancelBuild { BuildId = Build }));
        Assert.False(Policy.Allows("worker-b1", new CancelBuild { BuildId = Build }));
        Assert.True(Policy.Allows("publisher", new BuildRequested { BuildId = Build }));
        Assert.False(Policy.Allows(null, new BuildRequested { BuildId = Build }));
        Assert.False(Policy.Allows("publisher", new object()));
    }

    [Fact]
    public void Only_the_gateway_vouches_for_a_submitter()
    {
        Assert.True(Policy.IsGateway("submission"));
        Assert.False(Policy.IsGateway("publisher"));
        Assert.False(Policy.IsGateway(null));
        Assert.True(new BusSenderPolicy(Options.Create(new BusSenderOptions { Check = false })).IsGateway("anyone"));
    }
}
