using MassTransit;
using MassTransit.Middleware;
using MassTransit.RabbitMqTransport;
using RabbitMQ.Client;

namespace BuildFarm.ServiceDefaults.Bus;

/// <summary>
/// Moves a message that failed (to <c>QUEUE_error</c>) or that nothing consumed (to <c>QUEUE_skipped</c>) as this
/// service's own RabbitMQ user. MassTransit's own move republishes the message with its original properties, and
/// RabbitMQ refuses a <c>user_id</c> that is not the connection's user: the move would fail and the message come back
/// again and again. Here the copy names this service in <c>user_id</c>, and the original sender in the
/// <c>BF-Sender</c> header, beside MassTransit's usual fault and host headers.
/// </summary>
public static class SenderSafeMove
{
    public const string SenderHeader = "BF-Sender";

    /// <summary>Replaces the error and dead-letter pipes of an endpoint with moves as <paramref name="user"/>.</summary>
    public static void Configure(IReceiveEndpointConfigurator endpoint, string user)
    {
        endpoint.ConfigureError(x =>
        {
            x.UseFilter(new GenerateFaultFilter());
            x.UseFilter(new ErrorFilter(user));
        });
        endpoint.ConfigureDeadLetter(x => x.UseFilter(new DeadLetterFilter(user)));
    }

    private static async Task MoveAsync(ReceiveContext context, string suffix, string user, ExceptionReceiveContext? fault)
    {
        if (!context.TryGetPayload(out ChannelContext? channel) || !context.TryGetPayload(out RabbitMqBasicConsumeContext? consume))
        {
            throw new TransportException(context.InputAddress, "A RabbitMQ channel is needed to move a message.");
        }
        var name = context.InputAddress.AbsolutePath.Split('/')[^1] + suffix;
        var none = new Dictionary<string, object>();
        await channel.ExchangeDeclare(name, ExchangeType.Fanout, true, false, none, context.CancellationToken);
        await channel.QueueDeclare(name, true, false, false, none, context.CancellationToken);
        await channel.QueueBind(name, name, "", none, context.CancellationToken);

        var extra = new Dictionary<string, object>();
        extra[MessageHeaders.Reason] = fault is null ? "dead-letter" : "fault";
        if (fault is not null)
        {
            extra["MT-Fault-ExceptionType"] = fault.Exception.GetType().FullName ?? fault.Exception.GetType().Name;
            extra["MT-Fault-Message"] = fault.Exception.Message;
            extra["MT-Fault-Timestamp"] = fault.ExceptionTimestamp.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            extra["MT-Fault-StackTrace"] = fault.Exception.StackTrace is { } trace ? trace[..Math.Min(trace.Length, 4000)] : "";
        }
        extra["MT-Host-MachineName"] = Environment.MachineName;
        extra["MT-Host-ProcessName"] = Environment.ProcessPath is { } path ? Path.GetFileName(path) : "";
        if (consume.Properties.UserId is { Length: > 0 } sender)
        {
            extra[SenderHeader] = sender;
        }
        var properties = new BasicProperties(consume.Properties) { UserId = user };
        var headers = properties.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(properties.Headers);
        foreach (var (key, value) in extra)
        {
            headers[key] = value;
        }
        properties.Headers = headers;
        await channel.BasicPublishAsync(name, "", true, properties, context.GetBody(), true, context.CancellationToken);
    }

    private sealed class ErrorFilter(string user) : IFilter<ExceptionReceiveContext>
    {
        public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
        {
            await MoveAsync(context, "_error", user, context);
            await next.Send(context);
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("moveFault");
    }

    private sealed class DeadLetterFilter(string user) : IFilter<ReceiveContext>
    {
        public async Task Send(ReceiveContext context, IPipe<ReceiveContext> next)
        {
            await MoveAsync(context, "_skipped", user, null);
            await next.Send(context);
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("dead-letter");
    }
}
