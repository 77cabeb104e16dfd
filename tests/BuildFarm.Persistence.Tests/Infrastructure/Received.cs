namespace BuildFarm.Persistence.Tests.Infrastructure;

/// <summary>A message as a consumer saw it.</summary>
public sealed record Received(object Message, Guid? MessageId, Guid? CorrelationId, Guid? ConversationId, string? TestHeader, Uri? DestinationAddress);
