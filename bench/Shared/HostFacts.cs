using System.Runtime.InteropServices;

namespace BuildFarm.Bench;

/// <summary>Facts about the machine a benchmark ran on, for its report. Linked into every bench project.</summary>
internal static class HostFacts
{
    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static string Os()
    {
        const string file = "/etc/os-release";
        var pretty = File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        return pretty ?? RuntimeInformation.OSDescription;
    }

    /// <summary>MemTotal from /proc/meminfo, in GiB.</summary>
    public static string Memory()
    {
        const string file = "/proc/meminfo";
        var total = File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]
            : null;
        return long.TryParse(total, out var kib) ? $"{kib / 1024.0 / 1024.0:0.0} GiB" : "n/a";
    }

    public static string Cpu()
    {
        const string file = "/proc/cpuinfo";
        var model = File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} cores{(model is null ? "" : $" ({model})")}";
    }
}
