namespace BuildFarm.Worker;

/// <summary>Finds executables the way a shell would, without a shell.</summary>
internal static class Executables
{
    /// <summary>The full path of <paramref name="command"/> (a path, or a name looked up on PATH), or null.</summary>
    public static string? Find(string command)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            return null;
        }
        if (command.Contains('/'))
        {
            var full = Path.GetFullPath(command);
            return IsExecutable(full) ? full : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, command);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                return File.Exists(path);
            }
            return File.Exists(path)
                && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
