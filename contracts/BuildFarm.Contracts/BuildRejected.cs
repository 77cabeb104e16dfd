namespace BuildFarm.Contracts;

/// <summary>A request that failed validation. Nothing was stored for it.</summary>
public sealed record BuildRejected
{
    public required Guid BuildId { get; init; }
    public required IReadOnlyList<FieldError> Errors { get; init; }
    public required DateTimeOffset RejectedAt { get; init; }
}
