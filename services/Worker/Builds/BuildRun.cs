using BuildFarm.Contracts;

namespace BuildFarm.Worker.Builds;

/// <summary>One attempt this worker accepted: its request, its stop signal and its completion.</summary>
internal sealed class BuildRun(DispatchBuild request) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _reports = new(1, 1);
    private bool _acknowledged;
    private RunResult? _stopResult;

    public DispatchBuild Request => request;

    public (Guid BuildId, int Attempt) Key => (request.BuildId, request.Attempt);

    /// <summary>Fires when the attempt must stop; <see cref="StopResult"/> says why.</summary>
    public CancellationToken StopToken => _stop.Token;

    /// <summary>The first reason to stop, which becomes the outcome of a stopped attempt.</summary>
    public RunResult StopResult => Volatile.Read(ref _stopResult) ?? RunResult.InfrastructureFailure("stopped");

    /// <summary>True once it holds a local build permit (it is no longer queued in the process).</summary>
    public bool Started { get; set; }

    public Task Completion { get; set; } = Task.CompletedTask;

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The full commit the attempt checked out, once it did.</summary>
    public string? Commit { get; set; }

    /// <summary>
    /// Publishes <see cref="BuildRunAccepted"/> (through <paramref name="publishAccepted"/>) unless a report acknowledged
    /// the dispatch already; never after <see cref="ReportAsync"/> began.
    /// </summary>
    public async Task AcknowledgeAsync(Func<Task> publishAccepted)
    {
        await _reports.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_acknowledged)
            {
                await publishAccepted().ConfigureAwait(false);
                _acknowledged = true;
            }
        }
        finally
        {
            _reports.Release();
        }
    }

    /// <summary>
    /// Publishes a report that acknowledges the dispatch by itself (started, finished): after a
    /// <see cref="BuildRunAccepted"/> being published, never before it, so the Scheduler sees them in order.
    /// </summary>
    public async Task ReportAsync(Func<Task> publish)
    {
        await _reports.WaitAsync().ConfigureAwait(false);
        try
        {
            _acknowledged = true;
            await publish().ConfigureAwait(false);
        }
        finally
        {
            _reports.Release();
        }
    }

    /// <summary>Asks the attempt to stop; the first request decides the outcome.</summary>
    public bool RequestStop(RunResult why)
    {
        if (Interlocked.CompareExchange(ref _stopResult, why, null) is not null)
        {
            return false;
        }
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // finished meanwhile
        }
        return true;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _reports.Dispose();
    }
}
