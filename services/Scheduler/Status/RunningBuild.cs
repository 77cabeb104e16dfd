namespace BuildFarm.Scheduler.Status;

/// <summary>A build that holds a place on a server (dispatched, building or being cancelled).</summary>
public sealed record RunningBuild(
    Guid BuildId, string ServerId, DateTimeOffset Since, string SourceRepository, string TargetArchitecture, string Toolchain, string Priority);
