namespace BuildFarm.Persistence.Tests.Counter;

public sealed record StartCounter(Guid CounterId);

public sealed record Increment(Guid CounterId, Guid IncrementId);

/// <summary>The saga publishes <see cref="CounterExploded"/>, then throws.</summary>
public sealed record Explode(Guid CounterId);

public sealed record CounterStarted(Guid CounterId);

public sealed record CounterIncremented(Guid CounterId, Guid IncrementId, int Count);

public sealed record CounterExploded(Guid CounterId);

/// <summary>Published through <see cref="Outbox.PostgresOutbox"/> from outside a consumer.</summary>
public sealed record Announcement(Guid AnnouncementId, string Text);
