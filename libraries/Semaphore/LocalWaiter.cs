namespace BuildFarm.Semaphore;

/// <summary>A request of this process in the farm's queue, completed by pub/sub or by the heartbeat.</summary>
internal sealed class LocalWaiter(string holderId)
{
    private readonly TaskCompletionSource<WaitOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string HolderId { get; } = holderId;

    /// <summary>Set once the acquire script has put the entry in the queue; the heartbeat covers only these.</summary>
    public volatile bool Enqueued;

    /// <summary>The semaphore's epoch in Redis when it was queued: a later heartbeat that finds another epoch knows the entry was lost with Redis's data.</summary>
    public string Epoch { get; set; } = "";

    public Task<WaitOutcome> Outcome => _outcome.Task;

    public bool IsCompleted => _outcome.Task.IsCompleted;

    public void Complete(WaitOutcome outcome) => _outcome.TrySetResult(outcome);
}

internal enum WaitOutcome
{
    Granted,
    Removed,
    Disposed,
    /// <summary>Redis lost its data (the epoch changed): queue again.</summary>
    Reset,
}
