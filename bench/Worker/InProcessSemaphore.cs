using BuildFarm.Semaphore;

namespace BuildFarm.Worker.Bench;

/// <summary>A farm semaphore with no limit, in the process: the bench measures the build, not the slot.</summary>
internal sealed class InProcessSemaphore : IFarmSemaphore
{
    private long _token;

    public Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<SlotLease>(new Lease(request.HolderId, Interlocked.Increment(ref _token)));

    public Task<int?> GetLimitAsync() => Task.FromResult<int?>(int.MaxValue);

    public Task SetLimitAsync(int limit) => Task.CompletedTask;

    public Task<IReadOnlyList<SlotHolder>> GetHoldersAsync() => Task.FromResult<IReadOnlyList<SlotHolder>>([]);

    public Task<IReadOnlyList<SlotWaiter>> GetWaitersAsync() => Task.FromResult<IReadOnlyList<SlotWaiter>>([]);

    public Task<bool> ForceReleaseAsync(string holderId) => Task.FromResult(false);

    public Task ClearAsync() => Task.CompletedTask;

    private sealed class Lease(string holderId, long token) : SlotLease
    {
        public override string HolderId => holderId;

        public override long FencingToken => token;

        public override CancellationToken Lost => CancellationToken.None;

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
