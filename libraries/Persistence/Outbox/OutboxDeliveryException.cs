namespace BuildFarm.Persistence.Outbox;

/// <summary>A message could not be relayed from the outbox to the bus; it stays pending and is retried.</summary>
public sealed class OutboxDeliveryException(string message, Exception innerException) : Exception(message, innerException);
