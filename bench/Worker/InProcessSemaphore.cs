using BuildFarm.Semaphore;

namespace BuildFarm.Worker.Bench;

/// <summary>A farm semaphore with no limit, in the process: the bench measures the build, not the slot.</summary>
internal sealed class InProcessSemaphore : IFarmSemaphore
{
    private long _token;

    public Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<SlotLease>(new Lease(request.HolderId, Interlocked.Increment(ref _token)));

    public Task<bool> ReleaseAbandonedAsync(string holderId) => Task.FromResult(false);

    private sealed class Lease(string holderId, long token) : SlotLease
    {
        public override string HolderId => holderId;

        public override long FencingToken => token;

        public override CancellationToken Lost => CancellationToken.None;

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
