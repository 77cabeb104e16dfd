using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Keeps every batch of build log the workers stream, once, in order, from the server running that attempt only, up to
/// the farm's maxLogBytesPerAttempt (then a marker line, and the rest of that attempt is dropped). A Worker publishes a
/// stream's batches in order, but they are consumed in parallel and one can overtake the one before it: a batch waits
/// (up to Logs:OrderWait, woken by the store's notifications) until the one before it in its stream is stored, so the
/// log and its live followers keep the Worker's order.
/// </summary>
public sealed class StoreBuildLogConsumer(LogStore store, LogNotifier notifier, FarmSettingsCache settings, IOptions<LogsOptions> options,
    ILogger<StoreBuildLogConsumer> logger) : IConsumer<BuildLogAppended>
{
    public async Task Consume(ConsumeContext<BuildLogAppended> context)
    {
        var batch = context.Message;
        if (batch.Sequence > 1)
        {
            await WaitForPredecessorAsync(batch, context.CancellationToken);
        }
        if (!await store.AppendLogAsync(batch, settings.Current.MaxLogBytesPerAttempt, context.CancellationToken))
        {
            logger.LogWarning("Dropped a log batch of build {BuildId} attempt {Attempt} from {ServerId}: that server never held that attempt",
                batch.BuildId, batch.Attempt, batch.ServerId);
        }
    }

    private async Task WaitForPredecessorAsync(BuildLogAppended batch, CancellationToken ct)
    {
        // Real time, not the farm's clock: this waits for another message's transaction.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var remaining = options.Value.OrderWait - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            // Listen first, then look: a batch stored in between still wakes this one.
            var stored = notifier.WaitAsync(batch.BuildId, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, ct);
            if (await store.HasStoredAsync(batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence - 1, ct))
            {
                return;
            }
            if (remaining <= TimeSpan.Zero)
            {
                logger.LogInformation("Stored log batch {Sequence} of build {BuildId} attempt {Attempt} {Stream} without the one before it (not here within {Wait})",
                    batch.Sequence, batch.BuildId, batch.Attempt, batch.Stream, options.Value.OrderWait);
                return;
            }
            await stored;
        }
    }
}
