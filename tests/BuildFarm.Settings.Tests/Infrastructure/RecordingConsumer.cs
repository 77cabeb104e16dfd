using MassTransit;

namespace BuildFarm.Settings.Tests.Infrastructure;

/// <summary>Hands every settings broadcast to the test's <see cref="BusRecorder"/>.</summary>
public sealed class RecordingConsumer(BusRecorder recorder) : IConsumer<SettingsChanged>, IConsumer<ConcurrencyLimitChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context) => recorder.Record(context.Message);

    public Task Consume(ConsumeContext<ConcurrencyLimitChanged> context) => recorder.Record(context.Message);
}
