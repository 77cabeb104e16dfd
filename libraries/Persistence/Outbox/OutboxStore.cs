using MassTransit.Middleware;
using Npgsql;

namespace BuildFarm.Persistence.Outbox;

/// <summary>The SQL of the outbox relay and cleanup.</summary>
internal static class OutboxStore
{
    private const string Columns = """
        id, source, message_id, conversation_id, correlation_id, initiator_id, request_id, source_address,
        destination_address, response_address, fault_address, content_type, message_type, body, headers, properties,
        sent_time, expiration_time, available_at
        """;

    /// <summary>
    /// Claims up to <paramref name="maxSources"/> sources for this transaction and returns their pending messages
    /// (at most <paramref name="batchSize"/>) in id order. A source is claimed by locking its oldest pending row
    /// (<c>FOR UPDATE SKIP LOCKED</c>): another relay skips that source until this transaction ends, so the
    /// messages of one source are delivered in order while different sources are relayed in parallel. The oldest rows
    /// are walked in id order (index <c>outbox_message_pending_order</c>) until enough sources are found, so a claim costs
    /// the same with 10 or 100,000 pending rows.
    /// </summary>
    public static async Task<List<StoredOutboxMessage>> ClaimAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string owner, int maxSources, int batchSize, CancellationToken cancellationToken)
    {
        var sources = new List<string>();
        await using (var claim = new NpgsqlCommand("""
            SELECT o.source FROM outbox_message o
            WHERE o.owner = $2 AND o.delivered_at IS NULL AND o.available_at <= now()
              AND NOT EXISTS (SELECT 1 FROM outbox_message p
                               WHERE p.owner = $2 AND p.source = o.source AND p.delivered_at IS NULL AND p.id < o.id)
            ORDER BY o.id
            LIMIT $1
            FOR UPDATE OF o SKIP LOCKED
            """, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = maxSources });
            claim.Parameters.Add(new NpgsqlParameter { Value = owner });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                sources.Add(reader.GetString(0));
            }
        }
        if (sources.Count == 0)
        {
            return [];
        }

        // Whether a row is due is decided here, on the database clock that set its available_at, never on ours.
        await using var load = new NpgsqlCommand($"""
            SELECT {Columns}, available_at <= now() FROM outbox_message
            WHERE owner = $3 AND source = ANY($1) AND delivered_at IS NULL
            ORDER BY id
            LIMIT $2
            """, connection, transaction);
        load.Parameters.Add(new NpgsqlParameter { Value = sources.ToArray() });
        load.Parameters.Add(new NpgsqlParameter { Value = batchSize });
        load.Parameters.Add(new NpgsqlParameter { Value = owner });
        return await ReadAsync(load, cancellationToken);
    }

    public static async Task<List<OutboxMessageContext>> LoadForInboxAsync(
        PostgresSession session, Guid inboxMessageId, Guid consumerId, int limit, CancellationToken cancellationToken)
    {
        await using var load = session.CreateCommand($"""
            SELECT {Columns} FROM outbox_message
            WHERE inbox_message_id = $1 AND inbox_consumer_id = $2 AND delivered_at IS NULL
            ORDER BY id
            LIMIT $3
            """);
        load.Parameters.Add(new NpgsqlParameter { Value = inboxMessageId });
        load.Parameters.Add(new NpgsqlParameter { Value = consumerId });
        load.Parameters.Add(new NpgsqlParameter { Value = limit });
        return [.. await ReadAsync(load, cancellationToken)];
    }

    public static Task MarkDeliveredAsync(PostgresSession session, long[] ids, CancellationToken cancellationToken) =>
        MarkDeliveredAsync(session.Connection, session.Transaction, ids, cancellationToken);

    public static async Task MarkDeliveredAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long[] ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE outbox_message SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records a failed send. With <paramref name="maxBackoff"/>, also holds the row (and so its source, whose order
    /// is kept) back for a while that doubles with each failure up to that bound: a message the broker keeps refusing
    /// while others go through delays only its own source.
    /// </summary>
    public static async Task MarkFailedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, string error, TimeSpan? maxBackoff, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE outbox_message
               SET attempts = attempts + 1, last_error = $2,
                   available_at = CASE WHEN $3::interval IS NULL THEN available_at
                                       ELSE now() + least($3::interval, interval '100 milliseconds' * power(2, least(attempts, 20))) END
             WHERE id = $1
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = error });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval, Value = maxBackoff.HasValue ? maxBackoff.Value : DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes inbox rows received, and outbox rows delivered, before the given ages; returns (inbox, outbox) counts.</summary>
    public static async Task<(int Inbox, int Outbox)> CleanupAsync(
        NpgsqlDataSource dataSource, TimeSpan inboxRetention, TimeSpan deliveredRetention, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var inbox = new NpgsqlCommand("DELETE FROM inbox_state WHERE received_at < now() - $1", connection);
        inbox.Parameters.Add(new NpgsqlParameter { Value = inboxRetention });
        var inboxCount = await inbox.ExecuteNonQueryAsync(cancellationToken);
        await using var outbox = new NpgsqlCommand(
            "DELETE FROM outbox_message WHERE delivered_at IS NOT NULL AND delivered_at < now() - $1", connection);
        outbox.Parameters.Add(new NpgsqlParameter { Value = deliveredRetention });
        var outboxCount = await outbox.ExecuteNonQueryAsync(cancellationToken);
        return (inboxCount, outboxCount);
    }

    private static async Task<List<StoredOutboxMessage>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var messages = new List<StoredOutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new StoredOutboxMessage
            {
                SequenceNumber = reader.GetInt64(0),
                Source = reader.GetString(1),
                MessageId = reader.GetGuid(2),
                ConversationId = NullableGuid(reader, 3),
                CorrelationId = NullableGuid(reader, 4),
                InitiatorId = NullableGuid(reader, 5),
                RequestId = NullableGuid(reader, 6),
                SourceAddress = NullableUri(reader, 7),
                DestinationAddress = new Uri(reader.GetString(8)),
                ResponseAddress = NullableUri(reader, 9),
                FaultAddress = NullableUri(reader, 10),
                ContentType = reader.GetString(11),
                MessageType = reader.GetString(12),
                Body = reader.GetString(13),
                Headers = StoredOutboxMessage.ReadHeaders(reader.IsDBNull(14) ? null : reader.GetString(14)),
                Properties = StoredOutboxMessage.ReadProperties(reader.IsDBNull(15) ? null : reader.GetString(15)),
                SentTime = reader.GetDateTime(16),
                ExpirationTime = reader.IsDBNull(17) ? null : reader.GetDateTime(17),
                AvailableAt = reader.GetDateTime(18),
                Due = reader.FieldCount <= 19 || reader.GetBoolean(19),
            });
        }
        return messages;
    }

    private static Guid? NullableGuid(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetGuid(ordinal);

    private static Uri? NullableUri(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : new Uri(reader.GetString(ordinal));
}
