namespace BuildFarm.Submission.Servers;

/// <summary>A build server as GET /api/v1/servers shows it.</summary>
public sealed record ServerRecord(
    string Id, string Host, IReadOnlyList<string> Architectures, IReadOnlyList<string> Toolchains, int MaxConcurrentBuilds,
    int ActiveBuilds, double CpuPercent, double MemoryPercent, double DiskPercent, bool Maintenance, string Version,
    DateTimeOffset LastSeen, string Status, int AssignedBuilds);
