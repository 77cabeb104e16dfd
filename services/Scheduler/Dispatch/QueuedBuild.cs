using BuildFarm.Domain;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>A build waiting in the queue, as the dispatcher sees it; <see cref="Attempt"/> is its last attempt (0 before the first).</summary>
public sealed record QueuedBuild(
    Guid BuildId,
    BuildPriority Priority,
    string SubmittedBy,
    DateTimeOffset SubmittedAt,
    string TargetArchitecture,
    string Toolchain,
    string? RequestedServerId,
    string SourceRepository,
    DateTimeOffset? RetryAt,
    int Attempt = 0);
