using BuildFarm.Contracts;
using BuildFarm.Submission.Builds;
using MassTransit;

namespace BuildFarm.Submission.Consumers;

/// <summary>Marks a request accepted over HTTP as Rejected when the Scheduler refuses it, with its reasons.</summary>
public sealed class RecordRejectionConsumer(BuildRejections rejections) : IConsumer<BuildRejected>
{
    public Task Consume(ConsumeContext<BuildRejected> context) => rejections.RecordRejectionAsync(context.Message, context.CancellationToken);
}
