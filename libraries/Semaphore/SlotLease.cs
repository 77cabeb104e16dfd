namespace BuildFarm.Semaphore;

/// <summary>
/// A held slot. The implementation renews it in the background; when renewal fails (the lease
/// expired or an admin released it) <see cref="Lost"/> fires and the holder must stop its build.
/// Disposing releases the slot.
/// </summary>
public abstract class SlotLease : IAsyncDisposable
{
    public abstract string HolderId { get; }

    /// <summary>
    /// The grant's fencing token: larger than every token granted before it. It grows when the lease re-claims its
    /// slot after Redis lost its data (a new grant); read it when it is passed on, not once at the start.
    /// </summary>
    public abstract long FencingToken { get; }

    /// <summary>Fires when the slot is no longer held by this lease.</summary>
    public abstract CancellationToken Lost { get; }

    public abstract ValueTask DisposeAsync();
}
