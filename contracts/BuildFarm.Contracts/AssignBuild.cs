namespace BuildFarm.Contracts;

/// <summary>
/// The Scheduler's dispatcher chose a build server for a queued build; the build's saga turns this into
/// <see cref="DispatchBuild"/>. <see cref="Attempt"/> is the attempt the dispatch starts (the saga's attempt + 1),
/// so a late or repeated assignment is recognised and ignored.
/// </summary>
public sealed record AssignBuild
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required DateTimeOffset AssignedAt { get; init; }
}
