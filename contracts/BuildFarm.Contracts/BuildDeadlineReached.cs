namespace BuildFarm.Contracts;

/// <summary>
/// The Scheduler's deadline monitor found a build past the deadline of its current state (dispatch not
/// acknowledged, slot never taken, build over its maximum duration, cancel not confirmed).
/// </summary>
public sealed record BuildDeadlineReached
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    /// <summary>The state the build was in when the deadline passed.</summary>
    public required string State { get; init; }
    public required DateTimeOffset DeadlineAt { get; init; }
}
