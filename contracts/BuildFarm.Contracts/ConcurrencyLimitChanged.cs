namespace BuildFarm.Contracts;

/// <summary>The farm-wide limit of concurrent builds changed.</summary>
public sealed record ConcurrencyLimitChanged
{
    public required int OldLimit { get; init; }
    public required int NewLimit { get; init; }
    public required long Revision { get; init; }
    public required DateTimeOffset ChangedAt { get; init; }
}
