namespace BuildFarm.Settings.Apis;

/// <summary>GET /api/settings/build_status: the farm-wide build slots as the Redis semaphore holds them.</summary>
public sealed record BuildStatusResponse(int ActiveCount, int MaxConcurrent, IReadOnlyList<SlotHolderResponse> Holders, IReadOnlyList<SlotWaiterResponse> Waiters);

/// <summary>A build that holds a slot; <see cref="Holder"/> is "{buildId}:{attempt}".</summary>
public sealed record SlotHolderResponse(string BuildId, string Holder, int? Attempt, string Worker, DateTimeOffset Since, DateTimeOffset LeaseExpiresAt, long FencingToken);

/// <summary>A build waiting for a slot, at its 1-based position in the order of service.</summary>
public sealed record SlotWaiterResponse(int Position, int Priority, DateTimeOffset Since, string BuildId, string Holder, string Worker);

/// <summary>The answer to a force-release: the holders (attempts) of the build whose slots were freed.</summary>
public sealed record ReleaseSlotResponse(string BuildId, IReadOnlyList<string> Released);

/// <summary>The answer to a clear: the holders freed and how many waiters were dropped.</summary>
public sealed record ClearSlotsResponse(IReadOnlyList<string> Released, int DroppedWaiters);
