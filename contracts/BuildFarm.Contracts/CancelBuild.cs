namespace BuildFarm.Contracts;

/// <summary>Command: cancel a build, queued or running.</summary>
public sealed record CancelBuild
{
    public required Guid BuildId { get; init; }
    public string? RequestedBy { get; init; }
    public string? Reason { get; init; }
}
