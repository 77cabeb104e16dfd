namespace BuildFarm.Settings.Storage;

/// <summary>A page of the audit trail, newest first; pass <see cref="NextCursor"/> as <c>cursor</c> for the next one.</summary>
public sealed record SettingsHistoryPage(IReadOnlyList<SettingsHistoryEntry> Items, string? NextCursor);
