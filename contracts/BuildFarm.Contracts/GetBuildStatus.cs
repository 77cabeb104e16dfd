namespace BuildFarm.Contracts;

/// <summary>Request to the Scheduler: where is this build, and if it waits, why and until when? Answered with <see cref="BuildStatusReport"/>.</summary>
public sealed record GetBuildStatus
{
    public required Guid BuildId { get; init; }
}
