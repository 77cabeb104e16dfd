using BuildFarm.Contracts;
using BuildFarm.Worker.Builds;
using MassTransit;

namespace BuildFarm.Worker.Consumers;

/// <summary>Stops an attempt running (or waiting) here: cancel or timeout, as the Scheduler says.</summary>
public sealed class StopBuildRunConsumer(BuildRunner runner) : IConsumer<StopBuildRun>
{
    public Task Consume(ConsumeContext<StopBuildRun> context)
    {
        var message = context.Message;
        runner.Stop(message.BuildId, message.Attempt, message.As, message.Reason);
        return Task.CompletedTask;
    }
}
