using System.Text.Json;
using BuildFarm.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Spool;

/// <summary>
/// A durable local spool for what the Worker must not lose while the broker is away: a build's acceptance and start
/// (<see cref="BuildRunAccepted"/>, <see cref="BuildRunStarted"/>), its log batches (<see cref="BuildLogAppended"/>) and
/// its result (<see cref="BuildRunFinished"/>), all in the order they happened. Each message is written to its own
/// file (<c>{sequence}.json</c>, written aside and renamed into place; results are also flushed to the disk) before
/// it is sent; one sender sends the files in sequence order, each with the message id it was given when written, and
/// deletes a file only once the send returned (the broker confirmed it). A send that fails is tried again, with a
/// growing pause, until it goes: nothing is dropped. A Worker that starts finds what an earlier one left and sends it
/// first. A message may go twice (sent, then the Worker died before it deleted the file): the receivers apply it once
/// (the saga's inbox by message id, the log by build, attempt, stream and sequence).
/// </summary>
public sealed class EventSpool : BackgroundService
{
    private const string Suffix = ".json";
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainAtStop = TimeSpan.FromSeconds(5);

    private readonly string _directory;
    private readonly long _limitBytes;
    private readonly Func<object, Guid, CancellationToken, Task> _send;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly SortedDictionary<long, long> _pending = []; // sequence -> bytes
    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _lastRecovered;
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytes;
    private long _next;

    /// <param name="directory">The spool's own directory (created when missing).</param>
    /// <param name="limitBytes">Most bytes held before <see cref="AppendAsync"/> of a log batch waits.</param>
    /// <param name="send">Sends one message with the given message id; returns once the broker confirmed it.</param>
    public EventSpool(string directory, long limitBytes, Func<object, Guid, CancellationToken, Task> send, ILogger logger)
    {
        _directory = directory;
        _limitBytes = limitBytes;
        _send = send;
        _logger = logger;
        Directory.CreateDirectory(directory);
        foreach (var partial in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(partial); // a write the Worker did not finish: never sent, never confirmed to anyone
        }
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var sequence))
            {
                var size = new FileInfo(file).Length;
                _pending[sequence] = size;
                _bytes += size;
            }
        }
        _lastRecovered = _pending.Count > 0 ? _pending.Keys.Max() : 0;
        _next = _lastRecovered + 1;
        if (_pending.Count == 0)
        {
            _recovered.TrySetResult();
        }
        else
        {
            logger.LogInformation("The event spool holds {Count} messages from an earlier run: sending them first", _pending.Count);
        }
    }

    /// <summary>Messages written and not yet confirmed.</summary>
    public int Pending
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Completes once the messages an earlier Worker left have been sent.</summary>
    public Task Recovered => _recovered.Task;

    /// <summary>Whether the spool takes this kind of message.</summary>
    public static bool Takes(object message) => message is BuildRunAccepted or BuildRunStarted or BuildRunFinished or BuildLogAppended;

    /// <summary>
    /// Writes the message to the spool; returns once it is on disk (it is sent later, in order). A log batch waits while
    /// the spool holds its limit; a result never waits.
    /// </summary>
    public async Task AppendAsync(object message, CancellationToken cancellationToken)
    {
        var type = message switch
        {
            BuildRunAccepted => nameof(BuildRunAccepted),
            BuildRunStarted => nameof(BuildRunStarted),
            BuildRunFinished => nameof(BuildRunFinished),
            BuildLogAppended => nameof(BuildLogAppended),
            _ => throw new ArgumentException($"the spool does not take {message.GetType().Name}", nameof(message)),
        };
        // Results are flushed to the disk; only log batches wait for room (the others are small and few).
        var durable = message is BuildRunFinished;
        while (message is BuildLogAppended)
        {
            Task room;
            lock (_pending)
            {
                if (_bytes < _limitBytes)
                {
                    break;
                }
                room = _room.Task;
            }
            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new SpooledMessage(type, Guid.NewGuid(), JsonSerializer.SerializeToElement(message, message.GetType())));
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sequence = _next;
            var file = PathOf(sequence);
            var partial = file[..^Suffix.Length] + ".tmp";
            await using (var stream = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                if (durable)
                {
                    stream.Flush(flushToDisk: true);
                }
            }
            File.Move(partial, file);
            _next++;
            lock (_pending)
            {
                _pending[sequence] = bytes.Length;
                _bytes += bytes.Length;
            }
        }
        finally
        {
            _writeGate.Release();
        }
        _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            long sequence;
            lock (_pending)
            {
                sequence = _pending.Count > 0 ? _pending.Keys.First() : 0;
            }
            if (sequence == 0)
            {
                _recovered.TrySetResult();
                try
                {
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            SpooledMessage? spooled;
            object? message;
            try
            {
                spooled = JsonSerializer.Deserialize<SpooledMessage>(await File.ReadAllBytesAsync(PathOf(sequence), stoppingToken).ConfigureAwait(false));
                message = spooled?.Type switch
                {
                    nameof(BuildRunAccepted) => spooled.Body.Deserialize<BuildRunAccepted>(),
                    nameof(BuildRunStarted) => spooled.Body.Deserialize<BuildRunStarted>(),
                    nameof(BuildRunFinished) => spooled.Body.Deserialize<BuildRunFinished>(),
                    nameof(BuildLogAppended) => spooled.Body.Deserialize<BuildLogAppended>(),
                    _ => null,
                };
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                _logger.LogError(ex, "Spooled message {Sequence} cannot be read: kept aside as {File}.bad", sequence, PathOf(sequence));
                spooled = null;
                message = null;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (spooled is null || message is null)
            {
                SetAside(sequence);
                continue;
            }
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                limit.CancelAfter(SendTimeout);
                await _send(message, spooled.MessageId, limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                if (failures == 1 || failures % 20 == 0)
                {
                    _logger.LogWarning(ex, "Sending spooled {Type} failed ({Failures} tries so far, {Pending} messages waiting); trying again",
                        spooled.Type, failures, Pending);
                }
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(MaxPause.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 10)))),
                        stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            catch (Exception)
            {
                return; // stopping: the message stays in the spool for the next start
            }
            if (failures > 0)
            {
                _logger.LogInformation("Sending spooled messages again after {Failures} failed tries", failures);
                failures = 0;
            }
            Remove(sequence);
            if (sequence >= _lastRecovered)
            {
                _recovered.TrySetResult();
            }
        }
    }

    /// <summary>Gives the sender a few seconds to send what is spooled, then stops it; the rest waits on disk for the next start.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + DrainAtStop;
        while (Pending > 0 && DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _writeGate.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    private string PathOf(long sequence) =>
        Path.Combine(_directory, sequence.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + Suffix);

    private void Remove(long sequence)
    {
        File.Delete(PathOf(sequence));
        Forget(sequence);
    }

    private void SetAside(long sequence)
    {
        try
        {
            File.Move(PathOf(sequence), PathOf(sequence) + ".bad", overwrite: true);
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "Could not set spooled message {Sequence} aside", sequence);
        }
        Forget(sequence);
    }

    private void Forget(long sequence)
    {
        lock (_pending)
        {
            if (_pending.Remove(sequence, out var size))
            {
                _bytes -= size;
            }
            if (_bytes < _limitBytes)
            {
                _room.TrySetResult();
                _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>One spooled message: its contract's name, the message id it is sent with, and its body.</summary>
    private sealed record SpooledMessage(string Type, Guid MessageId, JsonElement Body);
}
