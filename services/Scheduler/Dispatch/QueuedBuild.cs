using BuildFarm.Domain;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>A build waiting in the queue, as the dispatcher sees it.</summary>
public sealed record QueuedBuild(
    Guid BuildId,
    BuildPriority Priority,
    string SubmittedBy,
    DateTimeOffset SubmittedAt,
    string TargetArchitecture,
    string Toolchain,
    string? RequestedServerId,
    string SourceRepository,
    DateTimeOffset? RetryAt);
