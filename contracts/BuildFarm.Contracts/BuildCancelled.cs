namespace BuildFarm.Contracts;

/// <summary>Published by the Scheduler when a build was cancelled.</summary>
public sealed record BuildCancelled
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public string? ServerId { get; init; }
    public string? CancelledBy { get; init; }
    public required DateTimeOffset CancelledAt { get; init; }
}
