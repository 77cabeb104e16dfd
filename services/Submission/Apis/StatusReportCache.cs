using BuildFarm.Contracts;
using BuildFarm.Submission.Servers;
using MassTransit;

namespace BuildFarm.Submission.Apis;

/// <summary>
/// The status page's figures, computed at most once every <see cref="MaxAge"/> however many clients ask: one
/// request computes (a database query and a question to the Scheduler) while the others wait for its answer.
/// </summary>
internal sealed class StatusReportCache(IServiceScopeFactory scopes, ServerQueries serverQueries, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _computing = new(1, 1);
    private StatusReport? _current;
    private long _computations;

    /// <summary>How many times the report was computed since start (for tests and metrics).</summary>
    public long Computations => Interlocked.Read(ref _computations);

    public async Task<StatusReport> GetAsync(CancellationToken ct)
    {
        if (Fresh(_current) is { } fresh)
        {
            return fresh;
        }
        await _computing.WaitAsync(ct);
        try
        {
            if (Fresh(_current) is { } computedMeanwhile)
            {
                return computedMeanwhile;
            }
            Interlocked.Increment(ref _computations);
            var servers = await serverQueries.ListAsync(ct);
            QueueStatusReport? queue = null;
            await using (var scope = scopes.CreateAsyncScope())
            {
                try
                {
                    var scheduler = scope.ServiceProvider.GetRequiredService<IRequestClient<GetQueueStatus>>();
                    queue = (await scheduler.GetResponse<QueueStatusReport>(new GetQueueStatus(), ct, RequestTimeout.After(s: 5))).Message;
                }
                catch (RequestTimeoutException)
                {
                    // shown as "the Scheduler did not answer"
                }
            }
            _current = new StatusReport(servers, queue, time.GetUtcNow());
            return _current;
        }
        finally
        {
            _computing.Release();
        }
    }

    private StatusReport? Fresh(StatusReport? report) =>
        report is not null && time.GetUtcNow() - report.ComputedAt < MaxAge ? report : null;
}

/// <summary>What the status page shows, as of <see cref="ComputedAt"/>.</summary>
internal sealed record StatusReport(IReadOnlyList<ServerRecord> Servers, QueueStatusReport? Queue, DateTimeOffset ComputedAt);
