using MassTransit;
using MassTransit.Metadata;
using MassTransit.Middleware;
using MassTransit.Serialization;

namespace BuildFarm.Persistence.Outbox;

/// <summary>A row of <c>outbox_message</c> as MassTransit's <see cref="OutboxMessageSendPipe"/> reads it to re-send the message.</summary>
internal sealed class StoredOutboxMessage : OutboxMessageContext
{
    private static readonly IReadOnlyDictionary<string, object> NoProperties = new Dictionary<string, object>();

    public required long SequenceNumber { get; init; }
    public required string Source { get; init; }
    public required Guid MessageId { get; init; }
    public Guid? RequestId { get; init; }
    public Guid? CorrelationId { get; init; }
    public Guid? ConversationId { get; init; }
    public Guid? InitiatorId { get; init; }
    public DateTime? ExpirationTime { get; init; }
    public Uri? SourceAddress { get; init; }
    public required Uri DestinationAddress { get; init; }
    public Uri? ResponseAddress { get; init; }
    public Uri? FaultAddress { get; init; }
    public required DateTime SentTime { get; init; }
    public required DateTime AvailableAt { get; init; }
    /// <summary>Whether <see cref="AvailableAt"/> had come when the row was read, on the database clock.</summary>
    public bool Due { get; init; } = true;
    public required string ContentType { get; init; }
    public required string MessageType { get; init; }
    public required string Body { get; init; }
    public required Headers Headers { get; init; }
    public required IReadOnlyDictionary<string, object> Properties { get; init; }

    Guid? MessageContext.MessageId => MessageId;
    DateTime? MessageContext.SentTime => SentTime;
    Uri? MessageContext.SourceAddress => SourceAddress;
    Uri? MessageContext.DestinationAddress => DestinationAddress;
    Uri? MessageContext.ResponseAddress => ResponseAddress;
    Uri? MessageContext.FaultAddress => FaultAddress;
    HostInfo MessageContext.Host => HostMetadataCache.Host;

    public static Headers ReadHeaders(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return EmptyHeaders.Instance;
        }
        var values = SystemTextJsonMessageSerializer.Instance.DeserializeObject<Dictionary<string, object?>>(json);
        return values is { Count: > 0 } ? new DictionarySendHeaders(values) : EmptyHeaders.Instance;
    }

    public static IReadOnlyDictionary<string, object> ReadProperties(string? json) =>
        string.IsNullOrWhiteSpace(json)
            ? NoProperties
            : SystemTextJsonMessageSerializer.Instance.DeserializeObject<Dictionary<string, object>>(json) ?? NoProperties;
}
