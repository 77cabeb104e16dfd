namespace BuildFarm.Contracts;

/// <summary>One attempt of a build that a build server has accepted and not finished (waiting for a slot or running).</summary>
public sealed record RunningAttempt
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
}
