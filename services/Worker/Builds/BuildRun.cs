using BuildFarm.Contracts;

namespace BuildFarm.Worker.Builds;

/// <summary>One attempt this worker accepted: its request, its stop signal and its completion.</summary>
internal sealed class BuildRun(DispatchBuild request) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
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

    public void Dispose() => _stop.Dispose();
}
