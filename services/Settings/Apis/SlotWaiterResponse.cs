namespace BuildFarm.Settings.Apis;

/// <summary>A build waiting for a slot, at its 1-based position in the order of service.</summary>
public sealed record SlotWaiterResponse(int Position, int Priority, DateTimeOffset Since, string BuildId, string Holder, string Worker);
