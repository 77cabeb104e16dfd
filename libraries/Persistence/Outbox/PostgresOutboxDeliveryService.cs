using MassTransit;
using MassTransit.Middleware;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// Relays committed <c>outbox_message</c> rows to the bus, exactly as MassTransit serialized them (same message id,
/// correlation, conversation, headers and message types). It wakes at once on a local commit (<see cref="OutboxSignal"/>)
/// or a PostgreSQL <c>NOTIFY</c> from another process, and polls slowly in case a notification was missed.
/// Several processes may relay at once: each claims sources with <c>FOR UPDATE SKIP LOCKED</c> (see
/// <see cref="OutboxStore.ClaimAsync"/>). Delivery is at least once: a crash between send and commit re-sends,
/// with the same MessageId, which the consumers' inbox drops.
/// It starts relaying once the host has started (so after MassTransit's hosted service has started the bus).
/// </summary>
public sealed partial class PostgresOutboxDeliveryService(
    NpgsqlDataSource dataSource,
    IBus bus,
    OutboxSignal signal,
    IHostApplicationLifetime lifetime,
    IOptions<PostgresOutboxOptions> options,
    ILogger<PostgresOutboxDeliveryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.DeliveryEnabled)
        {
            return;
        }
        using (var started = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStarted))
        {
            try
            {
                await Task.Delay(Timeout.Infinite, started.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The host has started.
            }
        }

        var listener = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A batch that was not full took everything due when it was claimed; rows committed since then have
                // signalled (in-process or by NOTIFY), so the wait below returns at once for them: no empty claim.
                while (await RelayBatchAsync(stoppingToken) is { Sent: > 0, Full: true })
                {
                }
                await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                LogRelayFailed(exception);
                await Delay(options.Value.RetryDelay, stoppingToken);
            }
        }
        await listener;
    }

    /// <summary>Relays one batch in one transaction; returns the number of messages sent and whether the batch was full.</summary>
    internal async Task<(int Sent, bool Full)> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var messages = await OutboxStore.ClaimAsync(connection, transaction, options.Value.Owner, options.Value.SourcesPerBatch, options.Value.BatchSize, cancellationToken);
        if (messages.Count == 0)
        {
            return (0, false);
        }
        var full = messages.Count >= options.Value.BatchSize || messages.Select(m => m.Source).Distinct().Count() >= options.Value.SourcesPerBatch;

        var now = DateTime.UtcNow;
        var results = await Task.WhenAll(messages.GroupBy(m => m.Source).Select(source => SendInOrderAsync(source, now, cancellationToken)));
        var delivered = results.SelectMany(r => r.Delivered).ToArray();
        // A send that failed while others went through is the message's own problem: that row backs off (its source
        // waits, the others go on). When nothing went through, the broker is away: no row is held back for it.
        var ownFault = delivered.Length > 0 ? options.Value.RetryDelay * 15 : (TimeSpan?)null;
        foreach (var (failed, error) in results.Where(r => r.Failed is not null).Select(r => (r.Failed!, r.Error!)))
        {
            await OutboxStore.MarkFailedAsync(connection, transaction, failed.SequenceNumber, error.ToString(), ownFault, CancellationToken.None);
        }
        if (delivered.Length > 0)
        {
            await OutboxStore.MarkDeliveredAsync(connection, transaction, delivered, CancellationToken.None);
        }
        await transaction.CommitAsync(CancellationToken.None);

        var firstError = results.Select(r => r.Error).FirstOrDefault(e => e is not null);
        if (firstError is not null && delivered.Length == 0)
        {
            throw new OutboxDeliveryException($"Outbox delivery failed: none of {messages.Count} messages was sent.", firstError);
        }
        if (firstError is not null)
        {
            LogRelayFailed(firstError);
        }
        return (delivered.Length, full);
    }

    private async Task<(List<long> Delivered, StoredOutboxMessage? Failed, Exception? Error)> SendInOrderAsync(
        IEnumerable<StoredOutboxMessage> source, DateTime now, CancellationToken cancellationToken)
    {
        var delivered = new List<long>();
        foreach (var message in source)
        {
            if (!message.Due)
            {
                break; // a delayed message: it and everything after it in this source waits
            }
            try
            {
                if (message.ExpirationTime is { } expiration && expiration < now)
                {
                    LogExpired(message.MessageId, message.DestinationAddress);
                }
                else
                {
                    var endpoint = await bus.GetSendEndpoint(message.DestinationAddress);
                    await endpoint.Send(new OutboxEnvelope(), new OutboxMessageSendPipe(message, message.DestinationAddress), cancellationToken);
                }
                delivered.Add(message.SequenceNumber);
            }
            catch (Exception exception)
            {
                return (delivered, message, exception);
            }
        }
        return (delivered, null, null);
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                var owner = options.Value.Owner;
                connection.Notification += (_, e) =>
                {
                    if (signal.Wakes(e.Payload, owner))
                    {
                        signal.Notify();
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {OutboxSignal.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Rows committed before LISTEN took effect are found by this wake-up.
                signal.Notify();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogListenFailed(exception);
                await Delay(options.Value.RetryDelay, stoppingToken);
            }
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed; retrying")]
    private partial void LogRelayFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox LISTEN connection failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {MessageId} to {Destination} expired before delivery; dropped")]
    private partial void LogExpired(Guid messageId, Uri destination);

    /// <summary>The placeholder message the send pipe replaces with the stored one.</summary>
    private sealed class OutboxEnvelope;
}
