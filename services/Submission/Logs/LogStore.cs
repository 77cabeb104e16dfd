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

    /// <summary>The build's history shows server g.s holding attempt g.a of build g.b.</summary>
    private const string HoldsAttempt = """
        EXISTS (SELECT 1 FROM build_view
                 WHERE build_id = g.b
                   AND history @> jsonb_build_array(jsonb_build_object('attempt', g.a, 'serverId', g.s)))
        """;

    /// <summary>Stores one batch (see <see cref="AppendLogsAsync"/>): false when its server does not hold that attempt.</summary>
    public async Task<bool> AppendLogAsync(BuildLogAppended batch, long maxBytes, CancellationToken ct) =>
        (await AppendLogsAsync([batch], maxBytes, ct))[0];

    /// <summary>
    /// Stores batches of log text in one transaction (a batch seen before is ignored) and wakes live followers; they are
    /// stored in the order given, so the caller gives each stream's batches in sequence. Only the server the build's
    /// history shows holding that attempt may add to its log; a batch from any other is dropped (false at its index).
    /// An attempt keeps at most <paramref name="maxBytes"/> bytes of log: the batch that crosses it is kept up to it,
    /// followed once by <see cref="TruncationMarker"/>, and every later batch of that attempt is dropped. Writers take
    /// turns on each attempt's <c>build_log_size</c> row (locked in one order, so two writers never wait on each other in
    /// a circle), so the count is exact.
    /// </summary>
    public async Task<bool[]> AppendLogsAsync(IReadOnlyList<BuildLogAppended> batches, long maxBytes, CancellationToken ct)
    {
        var holders = batches.Select(b => (b.BuildId, b.Attempt, Server: b.ServerId ?? "")).Distinct().Order().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Who holds each attempt, its size so far (locked), and which of the batches are stored already.
        var sizes = new Dictionary<(Guid, int, string), (long Bytes, bool Truncated)>();
        var stored = new HashSet<(Guid, int, string, long)>();
        await using (var claim = new NpgsqlBatch(connection, transaction))
        {
            var holderArrays = new object[] { holders.Select(h => h.BuildId).ToArray(), holders.Select(h => h.Attempt).ToArray(), holders.Select(h => h.Server).ToArray() };
            claim.BatchCommands.Add(Command($"""
                INSERT INTO build_log_size (build_id, attempt)
                SELECT g.b, g.a FROM unnest($1::uuid[], $2::integer[], $3::text[]) AS g(b, a, s) WHERE {HoldsAttempt}
                 ORDER BY g.b, g.a
                ON CONFLICT DO NOTHING
                """, holderArrays));
            claim.BatchCommands.Add(Command($"""
                SELECT g.b, g.a, g.s, z.bytes, z.truncated
                  FROM unnest($1::uuid[], $2::integer[], $3::text[]) AS g(b, a, s)
                  JOIN build_log_size z ON z.build_id = g.b AND z.attempt = g.a
                 WHERE {HoldsAttempt}
                 ORDER BY g.b, g.a
                   FOR UPDATE OF z
                """, holderArrays));
            // A statement of its own, so that it sees what the writer that held a lock before committed.
            claim.BatchCommands.Add(Command("""
                SELECT l.build_id, l.attempt, l.stream, l.sequence
                  FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::bigint[]) AS k(b, a, st, q)
                  JOIN build_log l ON l.build_id = k.b AND l.attempt = k.a AND l.stream = k.st AND l.sequence = k.q
                """, batches.Select(b => b.BuildId).ToArray(), batches.Select(b => b.Attempt).ToArray(),
                batches.Select(b => b.Stream).ToArray(), batches.Select(b => b.Sequence).ToArray()));
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sizes[(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2))] = (reader.GetInt64(3), reader.GetBoolean(4));
            }
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                stored.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3)));
            }
        }

        var held = new bool[batches.Count];
        var rows = new List<(Guid BuildId, int Attempt, string Stream, long Sequence, long Offset, string Text, DateTimeOffset At)>();
        var grown = new Dictionary<(Guid BuildId, int Attempt), (long Bytes, bool Truncating)>();
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            var holder = (batch.BuildId, batch.Attempt, batch.ServerId ?? "");
            if (!sizes.TryGetValue(holder, out var size))
            {
                continue;
            }
            held[i] = true;
            // Stored before, or dropped after the cap.
            if (size.Truncated || !stored.Add((batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence)))
            {
                continue;
            }
            var text = batch.Text.Replace("\0", "", StringComparison.Ordinal);
            var bytes = Encoding.UTF8.GetByteCount(text);
            var kept = size.Bytes + bytes <= maxBytes ? text : Utf8Prefix(text, (int)Math.Max(0, maxBytes - size.Bytes));
            var keptBytes = kept.Length == text.Length ? bytes : Encoding.UTF8.GetByteCount(kept);
            if (kept.Length > 0)
            {
                rows.Add((batch.BuildId, batch.Attempt, batch.Stream, batch.Sequence, batch.Offset, kept, batch.At));
            }
            var truncating = keptBytes < bytes;
            if (truncating)
            {
                // The marker goes last in the stream that crossed the cap, on a line of its own.
                var marker = (kept.EndsWith('\n') ? "" : "\n") + TruncationMarker(maxBytes) + "\n";
                rows.Add((batch.BuildId, batch.Attempt, batch.Stream, long.MaxValue, batch.Offset + keptBytes, marker, batch.At));
            }
            sizes[holder] = (size.Bytes + keptBytes, truncating);
            grown.TryGetValue((batch.BuildId, batch.Attempt), out var growth);
            grown[(batch.BuildId, batch.Attempt)] = (growth.Bytes + keptBytes, growth.Truncating || truncating);
        }

        if (grown.Count > 0)
        {
            await using var store = new NpgsqlBatch(connection, transaction);
            if (rows.Count > 0)
            {
                store.BatchCommands.Add(Command("""
                    INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
                    SELECT r.b, r.a, r.st, r.q, r.o, r.t, r.at
                      FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[])
                           WITH ORDINALITY AS r(b, a, st, q, o, t, at, n)
                     ORDER BY r.n
                    """, rows.Select(r => r.BuildId).ToArray(), rows.Select(r => r.Attempt).ToArray(), rows.Select(r => r.Stream).ToArray(),
                    rows.Select(r => r.Sequence).ToArray(), rows.Select(r => r.Offset).ToArray(), rows.Select(r => r.Text).ToArray(),
                    rows.Select(r => r.At.ToUniversalTime()).ToArray()));
            }
            var growth = grown.ToArray();
            store.BatchCommands.Add(Command("""
                UPDATE build_log_size z SET bytes = z.bytes + g.bytes, truncated = z.truncated OR g.truncating
                  FROM unnest($1::uuid[], $2::integer[], $3::bigint[], $4::boolean[]) AS g(b, a, bytes, truncating)
                 WHERE z.build_id = g.b AND z.attempt = g.a
                """, growth.Select(g => g.Key.BuildId).ToArray(), growth.Select(g => g.Key.Attempt).ToArray(),
                growth.Select(g => g.Value.Bytes).ToArray(), growth.Select(g => g.Value.Truncating).ToArray()));
            store.BatchCommands.Add(Command("SELECT pg_notify('build_log', b::text) FROM unnest($1::uuid[]) AS b",
                rows.Select(r => r.BuildId).Distinct().ToArray()));
            await store.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return held;
    }

    /// <summary>
    /// Which of these batches (build, attempt, stream, sequence) are stored, counting as stored every batch of an attempt
    /// whose log was cut (nothing more of it will be).
    /// </summary>
    public async Task<HashSet<(Guid BuildId, int Attempt, string Stream, long Sequence)>> StoredAmongAsync(
        IReadOnlyList<(Guid BuildId, int Attempt, string Stream, long Sequence)> batches, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT k.b, k.a, k.st, k.q FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::bigint[]) AS k(b, a, st, q)
             WHERE EXISTS (SELECT 1 FROM build_log WHERE build_id = k.b AND attempt = k.a AND stream = k.st AND sequence = k.q)
                OR EXISTS (SELECT 1 FROM build_log_size WHERE build_id = k.b AND attempt = k.a AND truncated)
            """);
        command.Parameters.AddWithValue(batches.Select(b => b.BuildId).ToArray());
        command.Parameters.AddWithValue(batches.Select(b => b.Attempt).ToArray());
        command.Parameters.AddWithValue(batches.Select(b => b.Stream).ToArray());
        command.Parameters.AddWithValue(batches.Select(b => b.Sequence).ToArray());
        var stored = new HashSet<(Guid, int, string, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            stored.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3)));
        }
        return stored;
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
