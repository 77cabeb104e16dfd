namespace BuildFarm.Semaphore;

/// <summary>
/// The farm-wide build-slot semaphore in Redis as a build server uses it: leased slots (renewed while held), waiters
/// served first come first served within priority, woken by pub/sub, and a fencing token per grant. Its limit and
/// its holders are administered through <see cref="IFarmSemaphoreAdmin"/>.
/// </summary>
public interface IFarmSemaphore
{
    /// <summary>
    /// Waits for a slot and returns its lease. Throws <see cref="SlotWaitTimeoutException"/> when no
    /// slot came within <see cref="SlotRequest.WaitTimeout"/>, and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires; in both cases the waiter is removed from the queue.
    /// </summary>
    Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Frees the slot <paramref name="holderId"/> still holds although its process died (it left no lease to dispose),
    /// so that it goes back to the farm now and not when its lease runs out. False if it held none.
    /// </summary>
    Task<bool> ReleaseAbandonedAsync(string holderId);
}

/// <summary>A request for a slot. <paramref name="HolderId"/> names the attempt, e.g. "{buildId}:{attempt}".</summary>
/// <param name="Priority">Higher is served first: 0 low, 1 normal, 2 high, 3 urgent.</param>
public sealed record SlotRequest(string HolderId, string WorkerId, int Priority, TimeSpan WaitTimeout);

/// <summary>No slot was granted within the wait timeout.</summary>
public sealed class SlotWaitTimeoutException(TimeSpan waited)
    : Exception($"no build slot within {waited.TotalSeconds:0} s")
{
    public TimeSpan Waited { get; } = waited;
}
