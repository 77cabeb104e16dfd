namespace BuildFarm.Contracts;

/// <summary>The farm's one settings record (the Settings service owns it).</summary>
public sealed record FarmSettings
{
    /// <summary>The farm-wide limit of builds at once (1–10,000); in <see cref="ConcurrencyModes.Auto"/> mode, the upper bound.</summary>
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
    /// <summary>The most builds of one submitter on build servers at once; 0 means no cap.</summary>
    public int MaxRunningPerSubmitter { get; init; }
    /// <summary>The most builds of one source repository on build servers at once; 0 means no cap.</summary>
    public int MaxRunningPerProject { get; init; }
    /// <summary>
    /// How the farm-wide limit is chosen: <see cref="ConcurrencyModes.Fixed"/> (<see cref="MaxConcurrentBuilds"/>) or
    /// <see cref="ConcurrencyModes.Auto"/> (follows the build servers' measured load within
    /// [<see cref="MinConcurrentBuilds"/>, <see cref="MaxConcurrentBuilds"/>]).
    /// </summary>
    public string ConcurrencyMode { get; init; } = ConcurrencyModes.Fixed;
    /// <summary>The lower bound of the farm-wide limit in <see cref="ConcurrencyModes.Auto"/> mode (at most <see cref="MaxConcurrentBuilds"/>).</summary>
    public int MinConcurrentBuilds { get; init; } = 1;
}
