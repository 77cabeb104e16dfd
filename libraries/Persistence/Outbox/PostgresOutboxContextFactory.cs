using MassTransit;
using MassTransit.Middleware;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// The inbox + outbox around one consume (resolved per consume scope by MassTransit's outbox filter): begins the
/// scope's <see cref="PostgresSession"/> transaction, records (MessageId, consumer) in <c>inbox_state</c> — a message
/// already recorded is a redelivery and is skipped — runs the consumer or saga with publishes and sends captured into
/// <c>outbox_message</c>, and commits all of it at once. The relay sends the captured messages after the commit.
/// An exception rolls everything back, so a retry (configured before the outbox) starts from scratch.
/// </summary>
public sealed partial class PostgresOutboxContextFactory(
    PostgresSession session,
    IServiceProvider provider,
    ILogger<PostgresOutboxContextFactory> logger) : IOutboxContextFactory<PostgresSession>
{
    public async Task Send<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next)
        where T : class
    {
        var messageId = context.GetOriginalMessageId() ?? throw new MessageException(typeof(T), "MessageId required to use the outbox");

        await session.BeginAsync(context.CancellationToken);
        try
        {
            await using (var inbox = session.CreateCommand("""
                INSERT INTO inbox_state (message_id, consumer_id, consumer_type) VALUES ($1, $2, $3)
                ON CONFLICT (message_id, consumer_id) DO NOTHING
                """))
            {
                inbox.Parameters.Add(new NpgsqlParameter { Value = messageId });
                inbox.Parameters.Add(new NpgsqlParameter { Value = options.ConsumerId });
                inbox.Parameters.Add(new NpgsqlParameter { Value = (object?)options.ConsumerType ?? DBNull.Value });
                if (await inbox.ExecuteNonQueryAsync(context.CancellationToken) == 0)
                {
                    // Committed by an earlier delivery of this message (or one that just committed while we waited on its row lock).
                    LogDuplicate(messageId, options.ConsumerType);
                    await session.RollbackAsync();
                    return;
                }
            }

            var outboxContext = new PostgresOutboxConsumeContext<T>(context, options, provider, session, messageId);
            await next.Send(outboxContext);
            await session.CommitAsync(context.CancellationToken);
        }
        catch
        {
            await session.RollbackAsync();
            throw;
        }
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("outboxContextFactory");
        scope.Add("provider", "postgres");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Inbox: message {MessageId} was already consumed by {ConsumerType}; skipped")]
    private partial void LogDuplicate(Guid messageId, string? consumerType);
}
