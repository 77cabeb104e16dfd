namespace BuildFarm.Semaphore;

/// <summary>
/// The farm-wide build-slot semaphore as its administrator sees it (the Settings service): the limit, who holds and
/// who waits, and freeing slots by hand. Builds take slots through <see cref="IFarmSemaphore"/>.
/// </summary>
public interface IFarmSemaphoreAdmin
{
    /// <summary>The limit in force (the number of slots); null while it is unknown (Redis holds none: nothing is granted).</summary>
    Task<int?> GetLimitAsync();

    /// <summary>Changes the limit: raising it admits waiters at once; lowering it drains (no holder is evicted).</summary>
    Task SetLimitAsync(int limit);

    /// <summary>Who holds a slot now.</summary>
    Task<IReadOnlyList<SlotHolder>> GetHoldersAsync();

    /// <summary>Who waits, in the order they will be served.</summary>
    Task<IReadOnlyList<SlotWaiter>> GetWaitersAsync();

    /// <summary>Frees one holder's slot; its lease reports itself lost. False if it held none.</summary>
    Task<bool> ForceReleaseAsync(string holderId);

    /// <summary>Frees every slot and drops every waiter.</summary>
    Task ClearAsync();
}

/// <summary>One holder of a slot.</summary>
public sealed record SlotHolder(string HolderId, string WorkerId, long FencingToken, DateTimeOffset Since, DateTimeOffset LeaseExpiresAt);

/// <summary>One waiter, with its 1-based position in the order of service.</summary>
public sealed record SlotWaiter(string HolderId, string WorkerId, int Priority, int Position, DateTimeOffset Since);
