using BuildFarm.Semaphore;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>
/// An in-test semaphore: grants at once with growing fencing tokens (or, while <see cref="Hold"/> is set, once it
/// completes), or times out when <see cref="Refuse"/> is set; a test can make every held lease lost.
/// </summary>
public sealed class FakeFarmSemaphore : IFarmSemaphore
{
    private readonly List<Lease> _held = [];
    private long _token;

    public bool Refuse { get; set; }

    public int Released { get; private set; }

    /// <summary>Requests made (granted, refused or still waiting).</summary>
    public int Requested => Volatile.Read(ref _requested);

    /// <summary>Called with the holder's id when a lease is given back.</summary>
    public Action<string>? OnRelease { get; set; }

    private int _requested;

    /// <summary>While set, requests wait for it (as for a full farm) before they are granted.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Requests waiting on <see cref="Hold"/>.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    public async Task<SlotLease> AcquireAsync(SlotRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requested);
        if (Refuse)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            throw new SlotWaitTimeoutException(request.WaitTimeout);
        }
        if (Hold is { } hold)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await hold.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        var lease = new Lease(this, request.HolderId, Interlocked.Increment(ref _token));
        lock (_held)
        {
            _held.Add(lease);
        }
        return lease;
    }

    public void LoseAll()
    {
        lock (_held)
        {
            foreach (var lease in _held)
            {
                lease.Lose();
            }
        }
    }

    public Task<bool> ReleaseAbandonedAsync(string holderId) => Task.FromResult(false);

    private sealed class Lease(FakeFarmSemaphore owner, string holderId, long token) : SlotLease
    {
        private readonly CancellationTokenSource _lost = new();

        public override string HolderId => holderId;

        public override long FencingToken => token;

        public override CancellationToken Lost => _lost.Token;

        public void Lose() => _lost.Cancel();

        public override ValueTask DisposeAsync()
        {
            owner.OnRelease?.Invoke(holderId);
            lock (owner._held)
            {
                owner._held.Remove(this);
                owner.Released++;
            }
            _lost.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
