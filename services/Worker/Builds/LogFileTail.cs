namespace BuildFarm.Worker.Builds;

/// <summary>
/// Follows a log file a tool writes (mock's build.log and root.log in the result dir) into a log stream
/// while the tool runs, polling its length; a file that shrinks was replaced and is read from the start.
/// </summary>
internal sealed class LogFileTail : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly string _path;
    private readonly LogPump.LogStream _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _position;

    public LogFileTail(string path, LogPump.LogStream target)
    {
        _path = path;
        _target = target;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Reads what is left and stops following.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await ReadNewAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await ReadNewAsync().ConfigureAwait(false);
                await Task.Delay(PollInterval, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // stopped: DisposeAsync reads the rest
        }
    }

    private async Task ReadNewAsync()
    {
        FileStream file;
        try
        {
            file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        await using (file.ConfigureAwait(false))
        {
            if (file.Length < _position)
            {
                _position = 0;
            }
            file.Position = _position;
            var buffer = new byte[LogPump.ReadBufferBytes];
            int read;
            while ((read = await file.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                await _target.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                _position += read;
            }
        }
    }
}
