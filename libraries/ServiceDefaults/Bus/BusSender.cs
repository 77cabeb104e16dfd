using MassTransit;
using MassTransit.RabbitMqTransport;

namespace BuildFarm.ServiceDefaults.Bus;

/// <summary>The RabbitMQ user that sent a message, as the broker validated it.</summary>
public static class BusSender
{
    /// <summary>The message's <c>user_id</c>; null when it has none (or did not come through RabbitMQ).</summary>
    public static string? Of(ConsumeContext context) =>
        context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit)
        && rabbit.Properties is { UserId: { Length: > 0 } user }
            ? user
            : null;
}
