using BuildFarm.Testing;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>Whether a process still lives (a zombie waiting for its reaper counts as dead).</summary>
public static class ProcessState
{
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    /// <summary>The pids the stand-in mock wrote into MOCK_PID_DIR (mock.PID, child.PID).</summary>
    public static IReadOnlyList<int> Written(string directory, string kind) =>
        [.. Directory.GetFiles(directory, kind + ".*").Select(f => int.Parse(Path.GetExtension(f)[1..], System.Globalization.CultureInfo.InvariantCulture))];

    public static async Task<int> WaitForAsync(string directory, string kind)
    {
        await Eventually.HoldsAsync(() => Written(directory, kind).Count > 0, $"the stand-in mock wrote a {kind} pid into {directory}");
        return Written(directory, kind)[0];
    }
}
