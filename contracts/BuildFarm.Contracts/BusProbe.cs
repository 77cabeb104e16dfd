namespace BuildFarm.Contracts;

/// <summary>
/// The Scheduler's own probe, sent by each Scheduler every monitor interval to the queue that build-server heartbeats
/// arrive on. While probes are consumed without a gap, heartbeats are too, so a server whose heartbeats stopped is
/// judged lost only then: not while the broker, the database or the Scheduler itself was away.
/// </summary>
public sealed record BusProbe
{
    public required Guid ProbeId { get; init; }
    public required DateTimeOffset SentAt { get; init; }
}
