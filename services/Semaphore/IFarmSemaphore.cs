namespace BuildFarm.Semaphore;

/// <summary>
/// The farm-wide build-slot semaphore in Redis: leased slots (renewed while held), waiters served
/// first come first served within priority, woken by pub/sub, and a fencing token per grant.
/// </summary>
public interface IFarmSemaphore
{
    /// <summary>
    /// Waits for a slot and returns its lease. Throws <see cref="SlotWaitTimeoutException"/> when no
    /// slot came within <see cref="SlotRequest.WaitTimeout"/>, and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires; in both cases the waiter is removed from the queue.
    /// </summary>
    Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken);

    /// <summary>The limit in force (the number of slots); null while it is unknown (Redis holds none: nothing is granted).</summary>
    Task<int?> GetLimitAsync();

    /// <summary>Changes the limit: raising it admits waiters at once; lowering it drains (no holder is evicted).</summary>
    Task SetLimitAsync(int limit);

    /// <summary>Who holds a slot now.</summary>
    Task<IReadOnlyList<SlotHolder>> GetHoldersAsync();

    /// <summary>Who waits, in the order they will be served.</summary>
    Task<IReadOnlyList<SlotWaiter>> GetWaitersAsync();

    /// <summary>Frees one holder's slot (admin); its lease reports itself lost. False if it held none.</summary>
    Task<bool> ForceReleaseAsync(string holderId);

    /// <summary>Frees every slot and drops every waiter (admin).</summary>
    Task ClearAsync();
}

/// <summary>A request for a slot. <paramref name="HolderId"/> names the attempt, e.g. "{buildId}:{attempt}".</summary>
/// <param name="Priority">Higher is served first: 0 low, 1 normal, 2 high, 3 urgent.</param>
public sealed record SlotRequest(string HolderId, string WorkerId, int Priority, TimeSpan WaitTimeout);

/// <summary>One holder of a slot.</summary>
public sealed record SlotHolder(string HolderId, string WorkerId, long FencingToken, DateTimeOffset Since, DateTimeOffset LeaseExpiresAt);

/// <summary>One waiter, with its 1-based position in the order of service.</summary>
public sealed record SlotWaiter(string HolderId, string WorkerId, int Priority, int Position, DateTimeOffset Since);

/// <summary>No slot was granted within the wait timeout.</summary>
public sealed class SlotWaitTimeoutException(TimeSpan waited)
    : Exception($"no build slot within {waited.TotalSeconds:0} s")
{
    public TimeSpan Waited { get; } = waited;
}
