namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// Wakes the dispatcher: whatever frees or adds capacity, or queues a build, pokes it, so a freed slot
/// is filled in milliseconds rather than at the next poll.
/// </summary>
public sealed class DispatchSignal
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public void Poke()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already poked: one pass serves every poke made before it starts.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => signal.WaitAsync(timeout, cancellationToken);
}
