using System.Globalization;

namespace BuildFarm.Worker.Builds;

/// <summary>What /proc says about the host's processes.</summary>
internal static class ProcessTable
{
    /// <summary>The process's start time in clock ticks after boot, or null when it is gone.</summary>
    public static long? StartTicks(int pid) => Stat(pid) is { } fields && fields.Length > 19
        && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;

    /// <summary>Every live process: its pid and process group id.</summary>
    public static IEnumerable<(int Pid, int GroupId)> All()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Stat(pid) is { Length: > 2 } fields && fields[0] is not ("Z" or "X")
                && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var group))
            {
                yield return (pid, group);
            }
        }
    }

    /// <summary>Where the process runs: its working directory and its root (a chroot), or nulls when unreadable.</summary>
    public static (string? Cwd, string? Root) Places(int pid) => (Link($"/proc/{pid}/cwd"), Link($"/proc/{pid}/root"));

    /// <summary>The fields of /proc/PID/stat after the command name (state first), or null.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Link(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
