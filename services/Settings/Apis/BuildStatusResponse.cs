namespace BuildFarm.Settings.Apis;

/// <summary>
/// GET /api/settings/build_status: the farm-wide build slots as the Redis semaphore holds them. <c>MaxConcurrent</c> is
/// null while Redis holds no limit (it lost its data; Settings sets it again): nothing is granted meanwhile.
/// </summary>
public sealed record BuildStatusResponse(int ActiveCount, int? MaxConcurrent, IReadOnlyList<SlotHolderResponse> Holders, IReadOnlyList<SlotWaiterResponse> Waiters);
