namespace BuildFarm.Settings.Apis;

/// <summary>
/// GET /api/settings/build_status: the farm-wide build slots as the Redis semaphore holds them. <c>MaxConcurrent</c> is
/// the limit in force (in auto mode, the one computed from the servers' load), null while Redis holds no limit (it lost
/// its data; Settings sets it again): nothing is granted meanwhile. <c>ConcurrencyMode</c> ("fixed" or "auto") and the
/// bounds <c>MinConcurrentBuilds</c>..<c>MaxConcurrentBuilds</c> are the stored settings' (in fixed mode the limit is
/// <c>MaxConcurrentBuilds</c>).
/// </summary>
public sealed record BuildStatusResponse(
    int ActiveCount,
    int? MaxConcurrent,
    string ConcurrencyMode,
    int MinConcurrentBuilds,
    int MaxConcurrentBuilds,
    IReadOnlyList<SlotHolderResponse> Holders,
    IReadOnlyList<SlotWaiterResponse> Waiters);
