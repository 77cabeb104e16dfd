namespace BuildFarm.Contracts;

/// <summary>A build server announces itself at start and then every few seconds.</summary>
public sealed record BuildServerHeartbeat
{
    public required string ServerId { get; init; }
    /// <summary>
    /// The Worker process that sends the heartbeat (a new id at each start of the Worker); null from servers that do not report it.
    /// The Scheduler declares lost the attempts of an earlier process of the server as soon as a later one reports.
    /// </summary>
    public Guid? InstanceId { get; init; }
    public required string Host { get; init; }
    public required IReadOnlyList<string> Architectures { get; init; }
    /// <summary>Toolchains the server really has: "rpmbuild", "mock:&lt;config&gt;".</summary>
    public required IReadOnlyList<string> Toolchains { get; init; }
    public required int MaxConcurrentBuilds { get; init; }
    public required int ActiveBuilds { get; init; }
    /// <summary>
    /// The attempts the server runs or has accepted, as it sees them. The Scheduler counts an attempt that it no
    /// longer places there (one it declared lost while the server still runs it) against the server's capacity
    /// until a heartbeat no longer lists it. Empty from servers that do not report it.
    /// </summary>
    public IReadOnlyList<RunningAttempt> Running { get; init; } = [];
    public required double CpuPercent { get; init; }
    public required double MemoryPercent { get; init; }
    public required double DiskPercent { get; init; }
    public required bool Maintenance { get; init; }
    public required string Version { get; init; }
    /// <summary>How often the server sends a heartbeat; three missed ones make it Offline.</summary>
    public required TimeSpan Interval { get; init; }
    public required DateTimeOffset SentAt { get; init; }
}
