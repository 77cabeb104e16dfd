namespace BuildFarm.Submission.Logs;

/// <summary>
/// What a live follower may send, in order: each stream's batches by sequence with none skipped. Batches are stored in
/// parallel transactions, so a read can see a batch while the one before it in its stream (which may even have the lower
/// id) is not committed yet; a follower that went on from the highest id it had read would skip that one for good (the
/// 1 GB log of <c>./farm bench</c> lost lines so). A batch that comes before its predecessor is held until the predecessor
/// arrives, or until <see cref="GapWait"/> has passed (a batch the Worker lost, or one over the log cap, never comes).
/// <see cref="SafeId"/> is where the next read starts: it does not move while a batch is held, and a predecessor with an
/// id at or below it (committed after a later id of another stream was read) is looked up by <see cref="Gaps"/>.
/// </summary>
public sealed class LogFollowOrder(TimeSpan gapWait, bool resumed)
{
    private readonly Dictionary<(int Attempt, string Stream), long> _next = [];
    private readonly SortedDictionary<long, (LogChunk Chunk, DateTimeOffset Since)> _held = [];
    private long _maxRead;
    private long _safe;

    /// <summary>How long a batch waits for the one before it in its stream before it is sent anyway.</summary>
    public TimeSpan GapWait => gapWait;

    /// <summary>Where the next read starts (and a resumed follower): every batch read up to this id has been sent.</summary>
    public long SafeId => _safe;

    /// <summary>The streams waiting for a batch, and the sequence each waits for.</summary>
    public IEnumerable<(int Attempt, string Stream, long Next)> Gaps =>
        _held.Values.Select(h => (h.Chunk.Attempt, h.Chunk.Stream)).Distinct().Select(k => (k.Attempt, k.Stream, _next[k]));

    /// <summary>Batches held for a predecessor.</summary>
    public int Held => _held.Count;

    /// <summary>Starts after <paramref name="afterId"/> (a resumed follower's Last-Event-ID).</summary>
    public void Start(long afterId) => _maxRead = _safe = afterId;

    /// <summary>
    /// Takes a batch read from the store (again, possibly: reads start at <see cref="SafeId"/>) and returns what may be sent
    /// now, in order.
    /// </summary>
    public IReadOnlyList<LogChunk> Add(LogChunk chunk, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var key = (chunk.Attempt, chunk.Stream);
        // A fresh follower expects each stream from its first batch (the Worker numbers them from 1); a resumed one
        // takes a stream up where it first sees it.
        var next = _next.TryGetValue(key, out var n) ? n : resumed ? chunk.Sequence : Math.Min(1, chunk.Sequence);
        _maxRead = Math.Max(_maxRead, chunk.Id);
        if (chunk.Sequence < next || _held.ContainsKey(chunk.Id))
        {
            _next[key] = next;
            Settle();
            return []; // sent already, or already waiting
        }
        if (chunk.Sequence > next)
        {
            _next[key] = next;
            _held[chunk.Id] = (chunk, now);
            return [];
        }
        var ready = new List<LogChunk> { chunk };
        _next[key] = next + 1;
        Release(key, ready);
        Settle();
        return ready;
    }

    /// <summary>Sends what has waited longer than <see cref="GapWait"/> for a predecessor that did not come.</summary>
    public IReadOnlyList<LogChunk> ReleaseOverdue(DateTimeOffset now)
    {
        var ready = new List<LogChunk>();
        while (_held.Values.Where(h => now - h.Since >= gapWait).OrderBy(h => h.Chunk.Sequence).Select(h => h.Chunk).FirstOrDefault() is { } overdue)
        {
            var key = (overdue.Attempt, overdue.Stream);
            // The stream's gap is given up: it goes on from its lowest held batch.
            var lowest = _held.Values.Where(h => (h.Chunk.Attempt, h.Chunk.Stream) == key).MinBy(h => h.Chunk.Sequence).Chunk;
            _held.Remove(lowest.Id);
            ready.Add(lowest);
            _next[key] = lowest.Sequence + 1;
            Release(key, ready);
        }
        Settle();
        return ready;
    }

    /// <summary>Moves <see cref="SafeId"/> on to everything read once nothing is held.</summary>
    private void Settle()
    {
        if (_held.Count == 0)
        {
            _safe = _maxRead;
        }
    }

    /// <summary>Moves the held batches of <paramref name="key"/> that now follow on to <paramref name="ready"/>.</summary>
    private void Release((int Attempt, string Stream) key, List<LogChunk> ready)
    {
        while (_held.Values.FirstOrDefault(h => (h.Chunk.Attempt, h.Chunk.Stream) == key && h.Chunk.Sequence == _next[key]).Chunk is { } follower)
        {
            _held.Remove(follower.Id);
            ready.Add(follower);
            _next[key] = follower.Sequence + 1;
        }
    }
}
