using System.Globalization;
using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Sandboxing;

/// <summary>How a command of a build is confined.</summary>
internal enum Confinement
{
    /// <summary>bubblewrap as the build user: namespaces, read-only system, only the workspace writable (rpmbuild).</summary>
    Isolated,

    /// <summary>The build user in the mock group, clean environment and limits; mock isolates its root itself.</summary>
    Mock,
}

/// <summary>
/// The sandbox of one attempt: its cgroup, its workspace handed to the build user, the command lines that run its
/// build commands confined, and which limit, if any, the build hit. Disposing it kills what is left in the cgroup.
/// </summary>
internal sealed class SandboxSession(BuildSandbox sandbox, BuildCgroup? cgroup, string workspace) : IDisposable
{
    private Timer? _cpuWatch;
    private volatile bool _cpuExceeded;

    public bool Enabled => sandbox.Enabled;

    /// <summary>Gives the workspace (and everything in it) to the build user, never following a symbolic link.</summary>
    public void HandOverWorkspace()
    {
        if (!sandbox.Enabled || !Directory.Exists(workspace))
        {
            return;
        }
        var pending = new Stack<string>();
        pending.Push(workspace);
        Native.ChangeOwner(workspace, sandbox.Uid, sandbox.Gid);
        while (pending.TryPop(out var directory))
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                Native.ChangeOwner(entry.FullName, sandbox.Uid, sandbox.Gid);
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    pending.Push(entry.FullName);
                }
            }
        }
    }

    /// <summary>Calls <paramref name="exceeded"/> once when the build's processes together used more CPU time than allowed.</summary>
    public void WatchCpu(Action<string> exceeded)
    {
        if (cgroup is null)
        {
            return;
        }
        var limit = TimeSpan.FromSeconds(sandbox.Options.CpuTimeLimitSeconds);
        _cpuWatch = new Timer(_ =>
        {
            if (!_cpuExceeded && cgroup.CpuUsed > limit)
            {
                _cpuExceeded = true;
                exceeded(CpuLimitReason);
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The command line that runs <paramref name="command"/> confined (itself when the sandbox is off).</summary>
    public CommandLine Wrap(CommandLine command, Confinement confinement)
    {
        if (!sandbox.Enabled)
        {
            return command;
        }
        var o = sandbox.Options;
        var argv = new List<string>();
        if (cgroup is not null)
        {
            argv.AddRange(["-c", sandbox.JoinCgroupScript, "sh", cgroup.ProcsFiles.Count.ToString(CultureInfo.InvariantCulture)]);
            argv.AddRange(cgroup.ProcsFiles);
            argv.Add(sandbox.Prlimit!);
        }
        argv.Add($"--cpu={o.CpuTimeLimitSeconds}");
        argv.Add($"--fsize={(long)o.FileSizeLimitMiB * 1024 * 1024}");
        if (cgroup is null)
        {
            argv.Add($"--nproc={o.ProcessLimit}");
            argv.Add($"--as={(long)o.MemoryLimitMiB * 1024 * 1024}");
        }
        argv.AddRange(["--", sandbox.Setpriv!, $"--reuid={sandbox.Uid}", $"--regid={sandbox.Gid}"]);
        if (confinement == Confinement.Mock)
        {
            argv.Add(sandbox.MockGid is { } mock ? $"--groups={mock}" : "--clear-groups");
            argv.AddRange(["--pdeathsig", "KILL", "--", command.FileName]);
            argv.AddRange(command.Arguments);
            return Start(argv, command.WorkingDirectory, command.Environment);
        }

        argv.AddRange(["--clear-groups", "--no-new-privs", "--", sandbox.Bwrap!, "--unshare-all"]);
        if (o.AllowNetwork)
        {
            argv.Add("--share-net");
        }
        argv.AddRange(["--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
            "--bind", workspace, workspace, "--proc", "/proc", "--dev", "/dev", "--clearenv"]);
        foreach (var (name, value) in command.Environment)
        {
            if (value is not null)
            {
                argv.AddRange(["--setenv", name, value]);
            }
        }
        argv.AddRange(["--chdir", command.WorkingDirectory, "--", command.FileName]);
        argv.AddRange(command.Arguments);
        // The confining programs themselves get only a PATH; the build's environment is set inside bwrap.
        return Start(argv, command.WorkingDirectory, new Dictionary<string, string?> { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin" });
    }

    /// <summary>Null when the build kept within its limits, else a sentence naming the limit it exceeded.</summary>
    public string? ExceededLimit(string? recentOutput)
    {
        if (!sandbox.Enabled)
        {
            return null;
        }
        var o = sandbox.Options;
        if (cgroup?.OomKills > 0)
        {
            return $"the build exceeded its memory limit ({o.MemoryLimitMiB} MiB)";
        }
        if (cgroup?.ProcessLimitHits > 0)
        {
            return $"the build exceeded its process limit ({o.ProcessLimit} processes)";
        }
        var text = recentOutput ?? "";
        if (_cpuExceeded || text.Contains("CPU time limit exceeded", StringComparison.Ordinal))
        {
            return CpuLimitReason;
        }
        if (text.Contains("File size limit exceeded", StringComparison.Ordinal))
        {
            return $"the build exceeded its file size limit ({o.FileSizeLimitMiB} MiB)";
        }
        return null;
    }

    public void Dispose()
    {
        _cpuWatch?.Dispose();
        cgroup?.Remove();
    }

    private string CpuLimitReason => $"the build exceeded its CPU time limit ({sandbox.Options.CpuTimeLimitSeconds} s)";

    private CommandLine Start(List<string> argv, string workingDirectory, IReadOnlyDictionary<string, string?> environment) =>
        cgroup is not null
            ? new CommandLine(sandbox.Shell!, argv, workingDirectory, environment)
            : new CommandLine(sandbox.Prlimit!, argv, workingDirectory, environment);
}
