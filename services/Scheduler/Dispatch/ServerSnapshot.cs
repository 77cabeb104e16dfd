namespace BuildFarm.Scheduler.Dispatch;

/// <summary>A build server as the registry last heard of it, plus the builds the Scheduler has placed on it.</summary>
public sealed record ServerSnapshot(
    string ServerId,
    string Host,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<string> Toolchains,
    int MaxConcurrentBuilds,
    double CpuPercent,
    double MemoryPercent,
    double DiskPercent,
    bool Maintenance,
    bool Online,
    DateTimeOffset LastSeen,
    int Assigned)
{
    public bool Has(string architecture, string toolchain) =>
        Architectures.Contains(architecture) && Toolchains.Contains(toolchain);

    public bool IsFull => Assigned >= MaxConcurrentBuilds;

    /// <summary>CPU, memory or disk at or above the threshold; a threshold of 100% never holds a server back.</summary>
    public bool IsOverThreshold(int thresholdPercent) =>
        thresholdPercent < 100 && (CpuPercent >= thresholdPercent || MemoryPercent >= thresholdPercent || DiskPercent >= thresholdPercent);

    /// <summary>How loaded the server is, for choosing the least loaded: its share of slots in use, then its busiest resource.</summary>
    public (double Slots, double Resources) Load =>
        ((double)Assigned / Math.Max(1, MaxConcurrentBuilds), Math.Max(CpuPercent, Math.Max(MemoryPercent, DiskPercent)));
}
