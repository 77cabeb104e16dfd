using System.Globalization;

namespace BuildFarm.Worker.Heartbeats;

/// <summary>CPU (from /proc/stat deltas), memory (/proc/meminfo) and disk (statfs of a directory) use, in percent.</summary>
internal sealed class HostMetrics
{
    private (ulong Idle, ulong Total)? _previous;

    /// <summary>CPU busy since the previous call (since boot on the first).</summary>
    public double CpuPercent()
    {
        var current = ReadCpu();
        if (current is null)
        {
            return 0;
        }
        var (idle, total) = current.Value;
        var (previousIdle, previousTotal) = _previous ?? (0UL, 0UL);
        _previous = current;
        var deltaTotal = total - previousTotal;
        var deltaIdle = idle - previousIdle;
        return deltaTotal == 0 ? 0 : Math.Round(100.0 * (deltaTotal - deltaIdle) / deltaTotal, 1);
    }

    public static double MemoryPercent()
    {
        try
        {
            ulong total = 0, available = 0;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = Kilobytes(line);
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = Kilobytes(line);
                }
            }
            return total == 0 ? 0 : Math.Round(100.0 * (total - available) / total, 1);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public static double DiskPercent(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var drive = new DriveInfo(directory);
            return drive.TotalSize == 0 ? 0 : Math.Round(100.0 * (drive.TotalSize - drive.AvailableFreeSpace) / drive.TotalSize, 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
    }

    private static (ulong Idle, ulong Total)? ReadCpu()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is null)
            {
                return null;
            }
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => ulong.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user)
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            var total = fields.Take(8).Aggregate(0UL, (sum, f) => sum + f);
            return (idle, total);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static ulong Kilobytes(string line) =>
        ulong.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
