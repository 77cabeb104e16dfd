namespace BuildFarm.Settings.Apis;

/// <summary>GET /api/settings/build_status: the farm-wide build slots as the Redis semaphore holds them.</summary>
public sealed record BuildStatusResponse(int ActiveCount, int MaxConcurrent, IReadOnlyList<SlotHolderResponse> Holders, IReadOnlyList<SlotWaiterResponse> Waiters);
