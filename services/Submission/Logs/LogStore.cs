using System.Text;
using BuildFarm.Contracts;
using Npgsql;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// The build logs the workers stream: stores each batch once (only from the server that holds the attempt, up to the
/// farm's cap) and wakes live followers; reads them back page by page without holding a connection between pages.
/// Which server holds an attempt comes from the Scheduler's read model (<c>build_view</c>).
/// </summary>
public sealed class LogStore(NpgsqlDataSource dataSource)
{
    /// <summary>Rows and bytes (plus one row) a log read takes from the database per query; it holds no connection between pages.</summary>
    public const int LogPageRows = 64;
    public const int LogPageBytes = 1024 * 1024;

    /// <summary>The line stored once in place of whatever an attempt's log holds beyond <paramref name="maxBytes"/>.</summary>
    public static string TruncationMarker(long maxBytes) => $"[log truncated at {maxBytes} bytes by the farm]";

    /// <summary>The build's history shows server $3 holding attempt $2 of build $1.</summary>
    private const string HoldsAttempt = """
        EXISTS (SELECT 1 FROM build_view
                 WHERE build_id = $1
                   AND history @> jsonb_build_array(jsonb_build_object('attempt', $2, 'serverId', $3::text)))
        """;

    /// <summary>
    /// Stores a batch of log text (a batch seen before is ignored) and wakes live followers. Only the server the
    /// build's history shows holding that attempt may add to its log; a batch from any other is dropped (false).
    /// An attempt keeps at most <paramref name="maxBytes"/> bytes of log: the batch that crosses it is kept up to it,
    /// followed once by <see cref="TruncationMarker"/>, and every later batch of that attempt is dropped. Concurrent
    /// batches of one attempt take turns on its <c>build_log_size</c> row, so the count is exact.
    /// </summary>
    public async Task<bool> AppendLogAsync(BuildLogAppended batch, long maxBytes, CancellationToken ct)
    {
        var text = batch.Text.Replace("\0", "", StringComparison.Ordinal);
        var size = Encoding.UTF8.GetByteCount(text);
        // Most batches fit: one statement locks the size row, stores, counts and notifies. The first batch of an attempt
        // (no size row yet) and the one that crosses the cap take the transaction below.
        await using (var command = dataSource.CreateCommand($"""
            WITH size AS (
                SELECT bytes, truncated FROM build_log_size WHERE build_id = $1 AND attempt = $2 AND {HoldsAttempt} FOR UPDATE),
            stored AS (
                INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
                SELECT $1, $2, $4, $5, $6, $7, $8 FROM size WHERE NOT truncated AND bytes + $9 <= $10
                ON CONFLICT DO NOTHING RETURNING build_id),
            counted AS (
                UPDATE build_log_size SET bytes = bytes + $9 WHERE build_id = $1 AND attempt = $2 AND EXISTS (SELECT 1 FROM stored))
            SELECT {HoldsAttempt}, (SELECT bytes FROM size), (SELECT truncated FROM size),
                   (SELECT count(*) FROM (SELECT pg_notify('build_log', build_id::text) FROM stored) n)
            """))
        {
            command.Parameters.AddWithValue(batch.BuildId);
            command.Parameters.AddWithValue(batch.Attempt);
            command.Parameters.AddWithValue(batch.ServerId ?? "");
            command.Parameters.AddWithValue(batch.Stream);
            command.Parameters.AddWithValue(batch.Sequence);
            command.Parameters.AddWithValue(batch.Offset);
            command.Parameters.AddWithValue(text);
            command.Parameters.AddWithValue(batch.At);
            command.Parameters.AddWithValue((long)size);
            command.Parameters.AddWithValue(maxBytes);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            if (!reader.GetBoolean(0))
            {
                return false;
            }
            if (!reader.IsDBNull(1))
            {
                // Stored; or dropped after the cap; or a repeat of a batch already stored (it would have fitted).
                if (reader.GetInt64(3) > 0 || reader.GetBoolean(2) || reader.GetInt64(1) + size <= maxBytes)
                {
                    return true;
                }
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        long stored;
        await using (var claim = new NpgsqlBatch(connection, transaction))
        {
            claim.BatchCommands.Add(Command($"""
                INSERT INTO build_log_size (build_id, attempt) SELECT $1, $2 WHERE {HoldsAttempt}
                ON CONFLICT DO NOTHING
                """, batch.BuildId, batch.Attempt, batch.ServerId ?? ""));
            claim.BatchCommands.Add(Command($"""
                SELECT bytes, truncated FROM build_log_size WHERE build_id = $1 AND attempt = $2 AND {HoldsAttempt} FOR UPDATE
                """, batch.BuildId, batch.Attempt, batch.ServerId ?? ""));
            // A statement of its own, so that it sees what the batch that held the lock before committed.
            claim.BatchCommands.Add(Command("""
                SELECT EXISTS (SELECT 1 FROM build_log WHERE build_id = $1 AND attempt = $2 AND stream = $3 AND sequence = $4)
                """, batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence));
            await using var reader = await claim.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return false;
            }
            stored = reader.GetInt64(0);
            var truncated = reader.GetBoolean(1);
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            if (truncated || reader.GetBoolean(0))
            {
                return true;
            }
        }

        var kept = stored + size <= maxBytes ? text : Utf8Prefix(text, (int)Math.Max(0, maxBytes - stored));
        var keptBytes = kept.Length == text.Length ? size : Encoding.UTF8.GetByteCount(kept);
        await using (var store = new NpgsqlBatch(connection, transaction))
        {
            if (kept.Length > 0)
            {
                store.BatchCommands.Add(Command("""
                    INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence, batch.Offset, kept, batch.At));
            }
            var truncating = keptBytes < size;
            if (truncating)
            {
                // The marker goes last in the stream that crossed the cap, on a line of its own.
                var marker = (kept.EndsWith('\n') ? "" : "\n") + TruncationMarker(maxBytes) + "\n";
                store.BatchCommands.Add(Command("""
                    INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, batch.BuildId, batch.Attempt, batch.Stream, long.MaxValue, batch.Offset + keptBytes, marker, batch.At));
            }
            store.BatchCommands.Add(Command("""
                UPDATE build_log_size SET bytes = bytes + $3, truncated = $4 WHERE build_id = $1 AND attempt = $2
                """, batch.BuildId, batch.Attempt, (long)keptBytes, truncating));
            store.BatchCommands.Add(Command("SELECT pg_notify('build_log', $1::text)", batch.BuildId.ToString()));
            await store.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>Whether the batch <paramref name="sequence"/> of the stream is stored, or the attempt's log was cut (nothing more will be).</summary>
    public async Task<bool> HasStoredAsync(Guid buildId, int attempt, string stream, long sequence, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM build_log WHERE build_id = $1 AND attempt = $2 AND stream = $3 AND sequence = $4)
                OR EXISTS (SELECT 1 FROM build_log_size WHERE build_id = $1 AND attempt = $2 AND truncated)
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(sequence);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    /// <summary>The longest start of <paramref name="text"/> that is at most <paramref name="maxBytes"/> bytes of UTF-8, cut between characters.</summary>
    private static string Utf8Prefix(string text, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= maxBytes)
        {
            return text;
        }
        var cut = maxBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }
        return Encoding.UTF8.GetString(bytes, 0, cut);
    }

    /// <summary>
    /// Log batches of a build after <paramref name="afterId"/>: one attempt (the latest when the read starts, by default),
    /// all streams in the order they were stored or one <paramref name="stream"/> in its own order, optionally only those
    /// reaching into [from, to) of that stream. Read page by page (<see cref="LogPageRows"/>, <see cref="LogPageBytes"/>):
    /// no database connection is held while the caller writes a page to a client, however slow.
    /// </summary>
    public async IAsyncEnumerable<LogChunk> ReadLogAsync(Guid buildId, int? attempt, string? stream, long afterId, (long From, long To)? range,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        // The cursor: the last id (all streams) or the last sequence (one stream) read so far.
        var cursor = stream is null ? afterId : long.MinValue;
        while (true)
        {
            var page = await ReadLogPageAsync(buildId, attempt, stream, afterId, cursor, range, ct);
            if (page.Count == 0)
            {
                yield break;
            }
            foreach (var chunk in page)
            {
                yield return chunk;
            }
            // One attempt from start to end, even if another one starts meanwhile.
            attempt ??= page[0].Attempt;
            cursor = stream is null ? page[^1].Id : page[^1].Sequence;
        }
    }

    /// <summary>
    /// The batches of one stream of one attempt from sequence <paramref name="fromSequence"/> on, with an id up to
    /// <paramref name="upToId"/>, in sequence order (a live follower's look-up of a batch that was committed late).
    /// </summary>
    public async Task<List<LogChunk>> ReadStreamFromAsync(Guid buildId, int attempt, string stream, long fromSequence, long upToId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, attempt, stream, byte_offset, sequence, text FROM build_log
             WHERE build_id = $1 AND attempt = $2 AND stream = $3 AND sequence >= $4 AND id <= $5
             ORDER BY sequence
             LIMIT $6
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(fromSequence);
        command.Parameters.AddWithValue(upToId);
        command.Parameters.AddWithValue(LogPageRows);
        var chunks = new List<LogChunk>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            chunks.Add(new LogChunk(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(5), reader.GetInt64(4)));
        }
        return chunks;
    }

    private async Task<List<LogChunk>> ReadLogPageAsync(Guid buildId, int? attempt, string? stream, long afterId, long cursor,
        (long From, long To)? range, CancellationToken ct)
    {
        var key = stream is null ? "id" : "sequence";
        await using var command = dataSource.CreateCommand($"""
            SELECT id, attempt, stream, byte_offset, sequence, text FROM (
                SELECT p.*, sum(octet_length(p.text)) OVER (ORDER BY p.{key}) - octet_length(p.text) AS bytes_before
                  FROM (SELECT id, attempt, stream, byte_offset, sequence, text FROM build_log
                         WHERE build_id = $1
                           AND attempt = COALESCE($2, (SELECT max(attempt) FROM build_log WHERE build_id = $1))
                           AND ($3::text IS NULL OR stream = $3)
                           AND id > $4
                           AND {key} > $5
                           AND ($6::bigint IS NULL OR byte_offset + octet_length(text) > $6)
                           AND ($7::bigint IS NULL OR byte_offset < $7)
                         ORDER BY {key}
                         LIMIT $8) p) page
             WHERE bytes_before < $9
             ORDER BY {key}
            """);
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Integer, (object?)attempt ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)stream ?? DBNull.Value);
        command.Parameters.AddWithValue(afterId);
        command.Parameters.AddWithValue(cursor);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Bigint, (object?)range?.From ?? DBNull.Value);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Bigint, (object?)range?.To ?? DBNull.Value);
        command.Parameters.AddWithValue(LogPageRows);
        command.Parameters.AddWithValue((long)LogPageBytes);
        var page = new List<LogChunk>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            page.Add(new LogChunk(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(5), reader.GetInt64(4)));
        }
        return page;
    }
}
