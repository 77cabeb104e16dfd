namespace BuildFarm.Contracts;

/// <summary>A build server took a dispatched attempt (acknowledged at once, before it waits for a slot).</summary>
public sealed record BuildRunAccepted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required DateTimeOffset AcceptedAt { get; init; }
}
