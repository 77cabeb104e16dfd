using MassTransit;
using Microsoft.Extensions.Logging;

namespace BuildFarm.ServiceDefaults.Bus;

/// <summary>
/// Runs before every consumer and saga: a message its sender may not send (see <see cref="BusSenderPolicy"/>)
/// is not consumed. MassTransit then moves it to the endpoint's <c>_skipped</c> queue, where operators can
/// see it; the refusal is logged and counted (<c>buildfarm.bus.refused</c>).
/// </summary>
public sealed class SenderCheckFilter<T>(BusSenderPolicy policy, ILogger<BusSenderPolicy> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var sender = BusSender.Of(context);
        if (policy.Allows(sender, context.Message))
        {
            return next.Send(context);
        }
        BusSenderPolicy.Refused(typeof(T).Name);
        logger.LogWarning("Refused {MessageType} {MessageId} from {Sender}: that sender may not send it",
            typeof(T).Name, context.MessageId, sender ?? "(no user_id)");
        return Task.CompletedTask;
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("senderCheck");
}
