using System.Diagnostics;

namespace BuildFarm.Worker.Bench;

/// <summary>Samples this process's resident set and managed heap every few milliseconds and keeps the peaks.</summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public MemorySampler(TimeSpan every)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(every);
            do
            {
                Sample();
            }
            while (await WaitAsync(timer).ConfigureAwait(false));
        });
    }

    public long PeakResidentBytes { get; private set; }

    public long PeakManagedBytes { get; private set; }

    public long PeakGcHeapBytes { get; private set; }

    public int Samples { get; private set; }

    /// <summary>The resident set now (VmRSS).</summary>
    public static long ResidentBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    /// <summary>The process's peak resident set so far (VmHWM), or 0 where /proc has none.</summary>
    public static long HighWaterMarkBytes()
    {
        const string status = "/proc/self/status";
        var line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) : null;
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Sample();
        _stop.Dispose();
    }

    private void Sample()
    {
        PeakResidentBytes = Math.Max(PeakResidentBytes, ResidentBytes());
        PeakManagedBytes = Math.Max(PeakManagedBytes, GC.GetTotalMemory(forceFullCollection: false));
        PeakGcHeapBytes = Math.Max(PeakGcHeapBytes, GC.GetGCMemoryInfo().HeapSizeBytes);
        Samples++;
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
