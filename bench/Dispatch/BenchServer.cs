using BuildFarm.Contracts;

namespace BuildFarm.Dispatch.Bench;

/// <summary>A build server played by the benchmark: heartbeats, and counts the builds it holds at once.</summary>
internal sealed class BenchServer(string id, int capacity)
{
    private readonly Lock gate = new();
    private int active;

    public string Id { get; } = id;
    public int Capacity { get; } = capacity;
    /// <summary>The most builds it held at once; more than <see cref="Capacity"/> would mean the Scheduler overfilled it.</summary>
    public int Peak { get; private set; }

    public void Begin()
    {
        lock (gate)
        {
            active++;
            Peak = Math.Max(Peak, active);
        }
    }

    public void End()
    {
        lock (gate)
        {
            active--;
        }
    }

    public BuildServerHeartbeat Heartbeat(TimeSpan interval)
    {
        int count;
        lock (gate)
        {
            count = active;
        }
        return new BuildServerHeartbeat
        {
            ServerId = Id, Host = Id + ".bench", Architectures = ["x86_64", "noarch"], Toolchains = ["rpmbuild"],
            MaxConcurrentBuilds = Capacity, ActiveBuilds = count, CpuPercent = 10, MemoryPercent = 10, DiskPercent = 10,
            Maintenance = false, Version = "bench", Interval = interval, SentAt = DateTimeOffset.UtcNow,
        };
    }
}
