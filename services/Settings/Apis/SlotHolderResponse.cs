namespace BuildFarm.Settings.Apis;

/// <summary>A build that holds a slot; <see cref="Holder"/> is "{buildId}:{attempt}".</summary>
public sealed record SlotHolderResponse(string BuildId, string Holder, int? Attempt, string Worker, DateTimeOffset Since, DateTimeOffset LeaseExpiresAt, long FencingToken);
