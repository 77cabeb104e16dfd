using System.Text.Json;
using BuildFarm.Contracts;

namespace BuildFarm.Settings.Storage;

/// <summary>
/// One entry of the audit trail: a change of the settings (<c>update</c>, with the record before and after) or an admin
/// action on the build slots (<c>release</c>, <c>clear</c>, with what it freed in <see cref="Details"/>).
/// </summary>
public sealed record SettingsHistoryEntry(
    long Id,
    string Action,
    long Revision,
    string ChangedBy,
    DateTimeOffset ChangedAt,
    IReadOnlyList<string> ChangedFields,
    FarmSettings? OldValue,
    FarmSettings? NewValue,
    JsonElement? Details);
