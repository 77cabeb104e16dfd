using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;

namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// The consume context a consumer or saga sees behind the Postgres outbox: every publish and send it makes is
/// captured (<see cref="AddSend{T}"/>) into the consume transaction instead of going to RabbitMQ, and relayed by
/// <see cref="PostgresOutboxDeliveryService"/> after the commit. MassTransit's own in-consumer delivery loop
/// (the Load/Notify/Remove members) is not used by <see cref="PostgresOutboxContextFactory"/>, which never asks to
/// continue processing after the consume; they work on the rows of this message all the same.
/// </summary>
public sealed class PostgresOutboxConsumeContext<TMessage>(
    ConsumeContext<TMessage> context,
    OutboxConsumeOptions options,
    IServiceProvider provider,
    PostgresSession session,
    Guid inboxMessageId)
    : OutboxConsumeContextProxy<TMessage>(context, options, provider)
    where TMessage : class
{
    private readonly string _source = context.CorrelationId?.ToString() ?? inboxMessageId.ToString();
    private bool _consumed;

    /// <summary>The session whose transaction holds the inbox row, the saga row and the outbox rows.</summary>
    public PostgresSession Session => session;

    public override Guid? MessageId => inboxMessageId;

    public override bool ContinueProcessing { get; set; }

    public override bool IsMessageConsumed => _consumed;

    public override bool IsOutboxDelivered => false;

    public override int ReceiveCount => this.GetRetryAttempt() + 1;

    public override long? LastSequenceNumber => null;

    public override Task SetConsumed()
    {
        _consumed = true;
        return Task.CompletedTask;
    }

    public override Task SetDelivered() => Task.CompletedTask;

    public override Task<List<OutboxMessageContext>> LoadOutboxMessages() =>
        OutboxStore.LoadForInboxAsync(session, inboxMessageId, ConsumerId, Options.MessageDeliveryLimit + 1, CancellationToken);

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message) =>
        OutboxStore.MarkDeliveredAsync(session, [message.SequenceNumber], CancellationToken);

    public override Task RemoveOutboxMessages() => Task.CompletedTask;

    public override Task AddSend<T>(SendContext<T> context)
    {
        session.AddOutboxRow(OutboxRow.From(context, _source, inboxMessageId, ConsumerId));
        return Task.CompletedTask;
    }
}
