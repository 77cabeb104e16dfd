using BuildFarm.Contracts;
using BuildFarm.Scheduler.Status;
using MassTransit;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>Answers <see cref="GetBuildStatus"/>: state, queue position, estimated start and why it waits.</summary>
public sealed class AnswerBuildStatusConsumer(StatusReader status) : IConsumer<GetBuildStatus>
{
    public async Task Consume(ConsumeContext<GetBuildStatus> context) =>
        await context.RespondAsync(await status.BuildAsync(context.Message.BuildId, context.CancellationToken));
}
