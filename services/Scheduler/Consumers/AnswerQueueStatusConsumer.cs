using BuildFarm.Contracts;
using BuildFarm.Scheduler.Status;
using MassTransit;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>Answers <see cref="GetQueueStatus"/>: counts by architecture and priority, and the wait of a new build.</summary>
public sealed class AnswerQueueStatusConsumer(StatusReader status) : IConsumer<GetQueueStatus>
{
    public async Task Consume(ConsumeContext<GetQueueStatus> context) =>
        await context.RespondAsync(await status.QueueAsync(context.CancellationToken));
}
