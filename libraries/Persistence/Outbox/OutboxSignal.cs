namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// Wakes the delivery service: in-process right after a local commit, and through PostgreSQL
/// <c>NOTIFY</c> on <see cref="Channel"/> for commits made by other processes.
/// </summary>
public sealed class OutboxSignal
{
    /// <summary>The LISTEN/NOTIFY channel the outbox writers notify when their transaction commits.</summary>
    public const string Channel = "buildfarm_outbox";

    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another thread signalled at the same moment: one wake-up is enough.
            }
        }
    }

    /// <summary>Waits for a signal or the timeout; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
