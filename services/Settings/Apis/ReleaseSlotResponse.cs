namespace BuildFarm.Settings.Apis;

/// <summary>The answer to a force-release: the holders (attempts) of the build whose slots were freed.</summary>
public sealed record ReleaseSlotResponse(string BuildId, IReadOnlyList<string> Released);
