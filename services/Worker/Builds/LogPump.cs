using System.Text;
using BuildFarm.Contracts;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// The log of one attempt: named streams (stdout, stderr, build, root), each published as ordered
/// <see cref="BuildLogAppended"/> batches with a per-stream sequence (from 1) and byte offset (from 0).
/// A batch goes out when it reaches 64 KB or its oldest byte is 250 ms old. Writers wait for a full
/// batch's publish before they read more, so memory stays bounded whatever a build prints.
/// </summary>
internal sealed class LogPump : IAsyncDisposable
{
    public const int BatchBytes = 64 * 1024;
    public const int ReadBufferBytes = 16 * 1024;
    public static readonly TimeSpan FlushAfter = TimeSpan.FromMilliseconds(250);

    private readonly Guid _buildId;
    private readonly int _attempt;
    private readonly string _serverId;
    private readonly IBuildEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, LogStream> _streams = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;

    public LogPump(Guid buildId, int attempt, string serverId, IBuildEvents events, TimeProvider time, ILogger logger)
    {
        _serverId = serverId;
        _logger = logger;
        _buildId = buildId;
        _attempt = attempt;
        _events = events;
        _time = time;
        _flusher = Task.Run(FlushPeriodicallyAsync);
    }

    /// <summary>The stream of this name, made on first use.</summary>
    public LogStream Stream(string name)
    {
        lock (_streams)
        {
            if (!_streams.TryGetValue(name, out var stream))
            {
                stream = new LogStream(this, name);
                _streams.Add(name, stream);
            }
            return stream;
        }
    }

    /// <summary>Copies a pipe into a stream in fixed buffers, waiting on each full batch's publish.</summary>
    public async Task PumpAsync(Stream source, string streamName, RecentOutput? recent = null)
    {
        var target = Stream(streamName);
        var buffer = new byte[ReadBufferBytes];
        int read;
        while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            recent?.Append(buffer.AsSpan(0, read));
            await target.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes whatever is pending in every stream.</summary>
    public async Task FlushAsync()
    {
        LogStream[] streams;
        lock (_streams)
        {
            streams = [.. _streams.Values];
        }
        foreach (var stream in streams)
        {
            await stream.FlushAsync(force: true).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _flusher.ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task FlushPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                LogStream[] streams;
                lock (_streams)
                {
                    streams = [.. _streams.Values];
                }
                foreach (var stream in streams)
                {
                    await stream.FlushAsync(force: false).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // disposed
        }
    }

    /// <summary>One stream of the log: a 64 KB batch and the position of the next one.</summary>
    internal sealed class LogStream(LogPump pump, string name)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly byte[] _batch = new byte[BatchBytes];
        private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
        private readonly char[] _chars = new char[BatchBytes + 4];
        private int _count;
        private long _offset;
        private long _sequence;
        private long _firstPendingAt;

        public string Name => name;

        /// <summary>Bytes published so far.</summary>
        public long Offset => Interlocked.Read(ref _offset);

        public async Task WriteAsync(ReadOnlyMemory<byte> data)
        {
            while (!data.IsEmpty)
            {
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (_count == 0)
                    {
                        _firstPendingAt = pump._time.GetTimestamp();
                    }
                    var n = Math.Min(data.Length, BatchBytes - _count);
                    data.Span[..n].CopyTo(_batch.AsSpan(_count));
                    _count += n;
                    data = data[n..];
                    if (_count == BatchBytes)
                    {
                        await PublishLockedAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
        }

        public async Task FlushAsync(bool force)
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_count > 0 && (force || pump._time.GetElapsedTime(_firstPendingAt) >= FlushAfter))
                {
                    await PublishLockedAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        private async Task PublishLockedAsync()
        {
            // The decoder keeps a character split across batches for the next one; offsets count bytes.
            var length = _decoder.GetChars(_batch, 0, _count, _chars, 0, flush: false);
            var message = new BuildLogAppended
            {
                BuildId = pump._buildId,
                Attempt = pump._attempt,
                ServerId = pump._serverId,
                Stream = name,
                Sequence = _sequence + 1,
                Offset = _offset,
                Text = new string(_chars, 0, length),
                At = pump._time.GetUtcNow(),
            };
            try
            {
                await pump._events.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Never stall the build on its log: the lost batch shows as a gap in sequence and offset.
                pump._logger.LogWarning(ex, "Lost {Bytes} bytes of the {Stream} log of build {BuildId} attempt {Attempt}",
                    _count, name, pump._buildId, pump._attempt);
            }
            _sequence++;
            Interlocked.Add(ref _offset, _count);
            _count = 0;
        }
    }
}

/// <summary>The last few kilobytes of a command's output, to explain a failure in words.</summary>
internal sealed class RecentOutput(int capacity = 4096)
{
    private readonly StringBuilder _text = new();

    public void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_text)
        {
            _text.Append(Encoding.UTF8.GetString(bytes.Length > capacity ? bytes[^capacity..] : bytes));
            if (_text.Length > capacity)
            {
                _text.Remove(0, _text.Length - capacity);
            }
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }

    /// <summary>The last non-empty line, or null.</summary>
    public string? LastLine() =>
        ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
}
