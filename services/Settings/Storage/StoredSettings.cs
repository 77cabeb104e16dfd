using BuildFarm.Contracts;

namespace BuildFarm.Settings.Storage;

/// <summary>The settings record as stored: the values, their revision (the ETag) and the last change.</summary>
public sealed record StoredSettings(FarmSettings Settings, long Revision, string? UpdatedBy, DateTimeOffset UpdatedAt)
{
    /// <summary>The strong entity tag of this revision, quoted: <c>"7"</c>.</summary>
    public string ETag => $"\"{Revision}\"";

    public SettingsChanged ToMessage() => new()
    {
        Settings = Settings,
        Revision = Revision,
        ChangedBy = UpdatedBy,
        ChangedAt = UpdatedAt,
    };
}
