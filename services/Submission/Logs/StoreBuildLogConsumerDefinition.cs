using MassTransit;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Enough log batches in hand at once for the <see cref="LogWriter"/> to store a fast log many batches per transaction
/// (each waits only for its own group's commit). At the Worker's 64 KB per batch, 64 in hand hold some 8 MB of text.
/// </summary>
public sealed class StoreBuildLogConsumerDefinition : ConsumerDefinition<StoreBuildLogConsumer>
{
    public const int InHand = 64;

    public StoreBuildLogConsumerDefinition()
    {
        ConcurrentMessageLimit = InHand;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<StoreBuildLogConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.PrefetchCount = InHand;
        }
    }
}
