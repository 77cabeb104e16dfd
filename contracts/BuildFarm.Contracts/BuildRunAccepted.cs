namespace BuildFarm.Contracts;

/// <summary>A build server took a dispatched attempt (acknowledged at once, before it waits for a slot).</summary>
public sealed record BuildRunAccepted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    /// <summary>
    /// The Worker process that took the attempt (a new id at each start of the Worker); null from servers that do not report it.
    /// The Scheduler declares lost the attempts of an earlier process of the server as soon as a later one reports.
    /// </summary>
    public Guid? InstanceId { get; init; }
    public required DateTimeOffset AcceptedAt { get; init; }
}
