namespace BuildFarm.Semaphore;

/// <summary>
/// The waiter's place in the queue was taken away while it waited: an admin cleared the semaphore,
/// or its heartbeat stopped for longer than <see cref="FarmSemaphoreOptions.WaiterTtl"/>.
/// </summary>
public sealed class SlotWaiterRemovedException(string holderId)
    : Exception($"waiter {holderId} was removed from the build-slot queue")
{
    public string HolderId { get; } = holderId;
}
