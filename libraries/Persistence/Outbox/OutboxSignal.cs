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
    private readonly string _instance = Guid.NewGuid().ToString("N");

    /// <summary>
    /// The <c>NOTIFY</c> payload of a commit that wrote outbox rows of <paramref name="owner"/> in this process: the owner
    /// (only its relays have anything to send) and this process (whose relay was woken in-process already).
    /// </summary>
    public string PayloadFor(string owner) => owner + "/" + _instance;

    /// <summary>
    /// Whether a notification wakes the relay of <paramref name="owner"/> in this process: rows of that owner committed by
    /// another process. A payload without an owner (an older writer) wakes every relay.
    /// </summary>
    public bool Wakes(string payload, string owner)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var slash = payload.LastIndexOf('/');
        return slash < 0
            || payload.AsSpan(0, slash).SequenceEqual(owner) && !payload.AsSpan(slash + 1).SequenceEqual(_instance);
    }

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
