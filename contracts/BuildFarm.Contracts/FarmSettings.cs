namespace BuildFarm.Contracts;

/// <summary>The farm's one settings record (the Settings service owns it).</summary>
public sealed record FarmSettings
{
    public int MaxConcurrentBuilds { get; init; } = 4;
    public int CleanupBuildsAfterDays { get; init; } = 30;
    public int CleanupReposAfterDays { get; init; } = 7;
    public bool AutoSyncProjects { get; init; } = true;
    public int SyncIntervalHours { get; init; } = 6;
    public int RepositorySyncIntervalMinutes { get; init; } = 30;
    public int MaxQueueSize { get; init; } = 1000;
    public int SlotWaitTimeoutSeconds { get; init; } = 300;
    public int MaxBuildMinutes { get; init; } = 120;
    public int MaxRetries { get; init; } = 3;
    public int UtilizationThresholdPercent { get; init; } = 85;
    /// <summary>The most log text kept per build attempt (all streams together); the rest is dropped after a marker line.</summary>
    public int MaxLogBytesPerAttempt { get; init; } = 100 * 1024 * 1024;
    /// <summary>The most builds one submitter may have on build servers at once; 0 for no cap.</summary>
    public int MaxRunningPerSubmitter { get; init; }
    /// <summary>The most builds of one source repository (project) on build servers at once; 0 for no cap.</summary>
    public int MaxRunningPerProject { get; init; }
}
