namespace BuildFarm.Worker;

/// <summary>
/// This Worker process: a new id at each start, carried in its heartbeats and in the attempts it takes, so the
/// Scheduler knows a restarted server from one that kept running and declares the earlier process's attempts lost.
/// </summary>
public sealed class WorkerInstance
{
    public Guid Id { get; } = Guid.NewGuid();
}
