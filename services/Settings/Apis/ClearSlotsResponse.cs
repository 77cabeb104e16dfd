namespace BuildFarm.Settings.Apis;

/// <summary>The answer to a clear: the holders freed and how many waiters were dropped.</summary>
public sealed record ClearSlotsResponse(IReadOnlyList<string> Released, int DroppedWaiters);
