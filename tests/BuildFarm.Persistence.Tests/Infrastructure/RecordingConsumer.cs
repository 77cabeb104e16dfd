using BuildFarm.Persistence.Tests.Counter;
using MassTransit;

namespace BuildFarm.Persistence.Tests.Infrastructure;

/// <summary>Records the events the saga publishes and the announcements published through the outbox.</summary>
public sealed class RecordingConsumer(Recorder recorder) :
    IConsumer<CounterStarted>, IConsumer<CounterIncremented>, IConsumer<CounterExploded>, IConsumer<Announcement>
{
    public Task Consume(ConsumeContext<CounterStarted> context) => Record(context);

    public Task Consume(ConsumeContext<CounterIncremented> context) => Record(context);

    public Task Consume(ConsumeContext<CounterExploded> context) => Record(context);

    public Task Consume(ConsumeContext<Announcement> context) => Record(context);

    private Task Record<T>(ConsumeContext<T> context)
        where T : class
    {
        recorder.Record(context);
        return Task.CompletedTask;
    }
}
