namespace BuildFarm.Contracts;

/// <summary>The farm's settings changed; every service applies them without a restart.</summary>
public sealed record SettingsChanged
{
    public required FarmSettings Settings { get; init; }
    public required long Revision { get; init; }
    public string? ChangedBy { get; init; }
    public required DateTimeOffset ChangedAt { get; init; }
}
