using MassTransit;
using MassTransit.Context;
using MassTransit.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// A message as MassTransit serialized it for the transport (envelope body, headers, transport properties),
/// captured from its <see cref="SendContext{T}"/> so the relay can send the identical message later.
/// </summary>
internal sealed record OutboxRow
{
    public required string Source { get; init; }
    public required Guid MessageId { get; init; }
    public Guid? ConversationId { get; init; }
    public Guid? CorrelationId { get; init; }
    public Guid? InitiatorId { get; init; }
    public Guid? RequestId { get; init; }
    public Uri? SourceAddress { get; init; }
    public required Uri DestinationAddress { get; init; }
    public Uri? ResponseAddress { get; init; }
    public Uri? FaultAddress { get; init; }
    public required string ContentType { get; init; }
    public required string MessageType { get; init; }
    public required string Body { get; init; }
    public string? Headers { get; init; }
    public string? Properties { get; init; }
    public required DateTime SentTime { get; init; }
    public DateTime? ExpirationTime { get; init; }
    /// <summary>How long after its commit the message may be sent (the relay measures it on the database clock).</summary>
    public TimeSpan? Delay { get; init; }
    public Guid? InboxMessageId { get; init; }
    public Guid? InboxConsumerId { get; init; }

    /// <summary>
    /// Captures a send context. The source (the unit of delivery order) is the message's correlation id when it
    /// has one, otherwise <paramref name="fallbackSource"/>.
    /// </summary>
    public static OutboxRow From<T>(SendContext<T> context, string fallbackSource, Guid? inboxMessageId = null, Guid? inboxConsumerId = null)
        where T : class
    {
        var messageId = context.MessageId ?? throw new MessageException(typeof(T), "The SendContext MessageId must be present to use the outbox.");
        var destination = context.DestinationAddress ?? throw new MessageException(typeof(T), "The SendContext DestinationAddress must be present to use the outbox.");
        var serializer = SystemTextJsonMessageSerializer.Instance;
        var now = DateTime.UtcNow;
        string? properties = null;
        if (context is TransportSendContext<T> transportContext)
        {
            var values = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            transportContext.WritePropertiesTo(values);
            if (values.Count > 0)
            {
                properties = serializer.SerializeDictionary(values);
            }
        }
        var headers = context.Headers.GetAll().ToList();
        return new OutboxRow
        {
            Source = context.CorrelationId?.ToString() ?? fallbackSource,
            MessageId = messageId,
            ConversationId = context.ConversationId,
            CorrelationId = context.CorrelationId,
            InitiatorId = context.InitiatorId,
            RequestId = context.RequestId,
            SourceAddress = context.SourceAddress,
            DestinationAddress = destination,
            ResponseAddress = context.ResponseAddress,
            FaultAddress = context.FaultAddress,
            ContentType = context.ContentType?.ToString() ?? context.Serialization.DefaultContentType.ToString(),
            MessageType = string.Join(";", context.SupportedMessageTypes),
            Body = context.Serializer.GetMessageBody(context).GetString(),
            Headers = headers.Count > 0 ? serializer.SerializeDictionary(headers) : null,
            Properties = properties,
            SentTime = context.SentTime ?? now,
            ExpirationTime = context.TimeToLive is { } ttl ? now + ttl : null,
            Delay = context.Delay is { } delay && delay > TimeSpan.Zero ? delay : null,
            InboxMessageId = inboxMessageId,
            InboxConsumerId = inboxConsumerId,
        };
    }

    /// <summary>The row's INSERT; <paramref name="owner"/> is the service whose relay will send it.</summary>
    public NpgsqlBatchCommand ToInsertCommand(string owner)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO outbox_message (owner, source, message_id, conversation_id, correlation_id, initiator_id, request_id,
                source_address, destination_address, response_address, fault_address, content_type, message_type, body,
                headers, properties, sent_time, expiration_time, available_at, inbox_message_id, inbox_consumer_id)
            VALUES ($21, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now() + coalesce($18, interval '0'), $19, $20)
            """);
        command.Parameters.Add(Text(Source));
        command.Parameters.Add(Uuid(MessageId));
        command.Parameters.Add(Uuid(ConversationId));
        command.Parameters.Add(Uuid(CorrelationId));
        command.Parameters.Add(Uuid(InitiatorId));
        command.Parameters.Add(Uuid(RequestId));
        command.Parameters.Add(Text(SourceAddress?.ToString()));
        command.Parameters.Add(Text(DestinationAddress.ToString()));
        command.Parameters.Add(Text(ResponseAddress?.ToString()));
        command.Parameters.Add(Text(FaultAddress?.ToString()));
        command.Parameters.Add(Text(ContentType));
        command.Parameters.Add(Text(MessageType));
        command.Parameters.Add(Text(Body));
        command.Parameters.Add(Text(Headers));
        command.Parameters.Add(Text(Properties));
        command.Parameters.Add(Time(SentTime));
        command.Parameters.Add(Time(ExpirationTime));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Interval, Value = Delay.HasValue ? Delay.Value : DBNull.Value });
        command.Parameters.Add(Uuid(InboxMessageId));
        command.Parameters.Add(Uuid(InboxConsumerId));
        command.Parameters.Add(Text(owner));
        return command;
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Uuid(Guid? value) => new() { NpgsqlDbType = NpgsqlDbType.Uuid, Value = value.HasValue ? value.Value : DBNull.Value };

    private static NpgsqlParameter Time(DateTime? value) => new()
    {
        NpgsqlDbType = NpgsqlDbType.TimestampTz,
        Value = value.HasValue ? ToUtc(value.Value) : DBNull.Value,
    };

    private static DateTime ToUtc(DateTime value) =>
        value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
