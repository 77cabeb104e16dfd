using System.Globalization;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Sandboxing;

/// <summary>
/// Control groups for builds, one per attempt under <c>buildfarm/</c>: memory, process-count and CPU-time accounting
/// for all of a build's processes together, and the counters that say which limit a build hit. Both layouts are
/// handled: cgroup v1 (one hierarchy per controller, as on this project's machines) and the unified v2 hierarchy
/// (most current hosts). <see cref="Detect"/> answers null when the host has neither writable; the sandbox then
/// falls back to per-process prlimit limits.
/// </summary>
internal sealed class BuildCgroups
{
    private const string Parent = "buildfarm";
    private readonly string _root;
    private readonly bool _v2;

    private BuildCgroups(string root, bool v2)
    {
        _root = root;
        _v2 = v2;
    }

    public string Layout => _v2 ? "cgroup v2" : "cgroup v1";

    public static BuildCgroups? Detect(string root, ILogger logger)
    {
        try
        {
            if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            {
                var controllers = File.ReadAllText(Path.Combine(root, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
                if (!new[] { "memory", "pids", "cpu" }.All(controllers.Contains))
                {
                    logger.LogWarning("The cgroup v2 hierarchy at {Root} lacks the memory, pids or cpu controller", root);
                    return null;
                }
                var parent = Path.Combine(root, Parent);
                Directory.CreateDirectory(parent);
                File.WriteAllText(Path.Combine(root, "cgroup.subtree_control"), "+memory +pids +cpu");
                File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+memory +pids +cpu");
                return new BuildCgroups(root, v2: true);
            }
            foreach (var controller in new[] { "memory", "pids", "cpuacct" })
            {
                Directory.CreateDirectory(Path.Combine(root, controller, Parent));
            }
            return new BuildCgroups(root, v2: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("No writable cgroups at {Root} ({Error}): build limits fall back to prlimit", root, ex.Message);
            return null;
        }
    }

    /// <summary>A new group for one build, with its limits set.</summary>
    public BuildCgroup Create(string name, SandboxOptions limits)
    {
        var memory = (long)limits.MemoryLimitMiB * 1024 * 1024;
        if (_v2)
        {
            var directory = Path.Combine(_root, Parent, name);
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "memory.max"), memory.ToString(CultureInfo.InvariantCulture));
            TryWrite(Path.Combine(directory, "memory.swap.max"), "0");
            File.WriteAllText(Path.Combine(directory, "pids.max"), limits.ProcessLimit.ToString(CultureInfo.InvariantCulture));
            return new BuildCgroup([directory], directory, directory, directory, v2: true);
        }
        var mem = Path.Combine(_root, "memory", Parent, name);
        var pids = Path.Combine(_root, "pids", Parent, name);
        var cpu = Path.Combine(_root, "cpuacct", Parent, name);
        Directory.CreateDirectory(mem);
        Directory.CreateDirectory(pids);
        Directory.CreateDirectory(cpu);
        File.WriteAllText(Path.Combine(mem, "memory.limit_in_bytes"), memory.ToString(CultureInfo.InvariantCulture));
        TryWrite(Path.Combine(mem, "memory.memsw.limit_in_bytes"), memory.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(pids, "pids.max"), limits.ProcessLimit.ToString(CultureInfo.InvariantCulture));
        return new BuildCgroup([mem, pids, cpu], mem, pids, cpu, v2: false);
    }

    /// <summary>The group of that name, as an earlier Worker made it (to kill what is left in it and remove it).</summary>
    public BuildCgroup Existing(string name)
    {
        if (_v2)
        {
            var directory = Path.Combine(_root, Parent, name);
            return new BuildCgroup([directory], directory, directory, directory, v2: true);
        }
        var mem = Path.Combine(_root, "memory", Parent, name);
        var pids = Path.Combine(_root, "pids", Parent, name);
        var cpu = Path.Combine(_root, "cpuacct", Parent, name);
        return new BuildCgroup([mem, pids, cpu], mem, pids, cpu, v2: false);
    }

    private static void TryWrite(string file, string value)
    {
        try
        {
            File.WriteAllText(file, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // no swap accounting on this host
        }
    }
}

/// <summary>One build's control group: where its processes are put, what they used, and whether they hit a limit.</summary>
internal sealed class BuildCgroup(IReadOnlyList<string> directories, string memory, string pids, string cpu, bool v2)
{
    /// <summary>The <c>cgroup.procs</c> files a process writes its pid into to join the group.</summary>
    public IReadOnlyList<string> ProcsFiles { get; } = directories.Select(d => Path.Combine(d, "cgroup.procs")).ToList();

    /// <summary>Processes the kernel killed because the group ran out of memory.</summary>
    public long OomKills => Counter(Path.Combine(memory, v2 ? "memory.events" : "memory.oom_control"), "oom_kill");

    /// <summary>Forks refused because the group had its maximum number of processes.</summary>
    public long ProcessLimitHits => Counter(Path.Combine(pids, "pids.events"), "max");

    /// <summary>CPU time used by all the group's processes so far.</summary>
    public TimeSpan CpuUsed
    {
        get
        {
            if (v2)
            {
                return TimeSpan.FromMicroseconds(Counter(Path.Combine(cpu, "cpu.stat"), "usage_usec"));
            }
            try
            {
                return TimeSpan.FromTicks(long.Parse(File.ReadAllText(Path.Combine(cpu, "cpuacct.usage")).Trim(), CultureInfo.InvariantCulture) / 100);
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Processes in the group now.</summary>
    public int ProcessCount => ProcsFiles.Take(1).SelectMany(ReadLines).Count(l => l.Length > 0);

    /// <summary>Kills whatever is left in the group and removes it.</summary>
    public void Remove()
    {
        for (var round = 0; round < 50; round++)
        {
            var left = false;
            foreach (var file in ProcsFiles)
            {
                foreach (var line in ReadLines(file))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    {
                        left = true;
                        Native.Kill(pid, Native.SigKill);
                    }
                }
            }
            if (!left)
            {
                break;
            }
            Thread.Sleep(20);
        }
        foreach (var directory in directories)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // still busy: removed by the next start's sweep
            }
        }
    }

    private static IEnumerable<string> ReadLines(string file)
    {
        try
        {
            return File.ReadAllLines(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static long Counter(string file, string key)
    {
        foreach (var line in ReadLines(file))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        return 0;
    }
}
