namespace BuildFarm.Worker.Bench;

/// <summary>Facts about the machine, for the report.</summary>
internal static class Machine
{
    public static string MemoryTotal()
    {
        const string file = "/proc/meminfo";
        var line = File.Exists(file) ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        return line is null ? "n/a" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024} GiB";
    }

    /// <summary>The checkout: the first directory above the program or the current directory holding tests/mock/mock.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "tests", "mock", "mock")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException("tests/mock/mock not found above the current directory or the program");
    }
}
