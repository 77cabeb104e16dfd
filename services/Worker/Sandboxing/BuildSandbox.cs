using System.Globalization;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker.Sandboxing;

/// <summary>
/// Confines build code, a stranger's program. Found once at start: bubblewrap, the unprivileged build user, the
/// mock group and the host's cgroups. A Worker whose sandbox is enabled and cannot work refuses to start (rather
/// than build as its own user). Each attempt gets a <see cref="SandboxSession"/>.
/// <para>
/// Every build command starts with an environment made only of <see cref="AllowedEnvironment"/> and the server's
/// <c>Worker:BuildEnvironment</c>; the Worker's own variables (connection strings, passwords) never reach it. Then,
/// in that order, as argv and never through a shell line: <c>sh</c> with a fixed script puts the process into the
/// attempt's cgroup, <c>prlimit</c> sets the CPU-time and file-size limits (and process-count and address-space
/// limits where there is no cgroup), <c>setpriv</c> becomes the build user (no capabilities, no supplementary groups
/// but mock's), and for rpmbuild <c>bwrap</c> adds new user, PID, IPC, UTS, cgroup and network namespaces (no
/// network unless <see cref="SandboxOptions.AllowNetwork"/>), a read-only view of the system, a private /tmp and
/// /var/tmp, the attempt's workspace as the only writable place, and <c>--die-with-parent</c>: when the Worker dies,
/// even by SIGKILL, the build dies, and when the build's command ends, every process it left in its PID namespace
/// (a <c>setsid … &amp;</c> daemon) is killed with it. mock isolates its build root itself and needs its own
/// privileged helper, so it runs as the build user in the mock group without bwrap, with the parent-death signal
/// set by setpriv and the cgroup removing whatever it leaves.
/// </para>
/// </summary>
public sealed class BuildSandbox
{
    /// <summary>The only variables of the Worker's own environment a build sees (with defaults when unset).</summary>
    public static readonly IReadOnlyList<string> AllowedEnvironment = ["PATH", "HOME", "LANG", "TZ"];

    // Joins the cgroups named by its first arguments, then execs the rest: a fixed script, user values only in "$@".
    private const string JoinScript = "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; n=$((n-1)); done; exec \"$@\"";

    private readonly SandboxOptions _options;
    private readonly ILogger<BuildSandbox> _logger;
    private readonly BuildCgroups? _cgroups;

    public BuildSandbox(IOptions<WorkerOptions> options, ILogger<BuildSandbox> logger)
    {
        _options = options.Value.Sandbox;
        _logger = logger;
        if (!_options.Enabled)
        {
            logger.LogWarning("The build sandbox is disabled (Worker:Sandbox:Enabled=false): build code runs as the Worker's user with its rights");
            return;
        }
        Bwrap = Executables.Find(_options.BwrapCommand) ?? throw Refuse($"bubblewrap ({_options.BwrapCommand}) is not installed (Debian package bubblewrap)");
        Setpriv = Executables.Find("setpriv") ?? throw Refuse("setpriv (util-linux) is not installed");
        Prlimit = Executables.Find("prlimit") ?? throw Refuse("prlimit (util-linux) is not installed");
        Shell = Executables.Find("/bin/sh") ?? throw Refuse("/bin/sh is missing");
        var user = Accounts.FindUser(_options.User) ?? throw Refuse($"the build user {_options.User} does not exist (./farm up creates it: useradd --system {_options.User})");
        if (user.Uid == 0 || user.Gid == 0)
        {
            throw Refuse($"the build user {_options.User} is root");
        }
        (Uid, Gid) = user;
        MockGid = Accounts.FindGroup(_options.MockGroup);
        _cgroups = BuildCgroups.Detect(_options.CgroupRoot, logger);
        logger.LogInformation("Builds run as {User} (uid {Uid}) in bubblewrap, limits by {Limits}, network {Network}",
            _options.User, Uid, _cgroups?.Layout ?? "prlimit", _options.AllowNetwork ? "allowed" : "none");
    }

    public bool Enabled => _options.Enabled;

    public SandboxOptions Options => _options;

    internal string? Bwrap { get; }
    internal string? Setpriv { get; }
    internal string? Prlimit { get; }
    internal string? Shell { get; }
    internal int Uid { get; }
    internal int Gid { get; }
    internal int? MockGid { get; }
    internal BuildCgroups? Cgroups => _cgroups;

    /// <summary>The environment every build command starts from: the allowlisted variables, then the server's additions.</summary>
    public static Dictionary<string, string?> BaseEnvironment(WorkerOptions options, string? home)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = home ?? Environment.GetEnvironmentVariable("HOME") ?? "/",
            ["LANG"] = Environment.GetEnvironmentVariable("LANG") is { Length: > 0 } lang ? lang : "C.UTF-8",
            ["TZ"] = Environment.GetEnvironmentVariable("TZ") is { Length: > 0 } tz ? tz : "UTC",
        };
        foreach (var (name, value) in options.BuildEnvironment)
        {
            environment[name] = value;
        }
        return environment;
    }

    /// <summary>A sandbox for one attempt: its cgroup (when the host has them) and its workspace.</summary>
    internal SandboxSession Open(string name, string workspace) =>
        new(this, _options.Enabled ? _cgroups?.Create(name, _options) : null, workspace);

    internal string JoinCgroupScript => JoinScript;

    private static InvalidOperationException Refuse(string why) =>
        new($"The build sandbox cannot work on this host: {why}. Builds run strangers' code and are never run unconfined; " +
            "fix the host, or set Worker:Sandbox:Enabled=false on a host that must build without a sandbox.");

    /// <summary>Reads users and groups from /etc/passwd and /etc/group (the farm's users are local system users).</summary>
    private static class Accounts
    {
        public static (int Uid, int Gid)? FindUser(string name)
        {
            foreach (var fields in Entries("/etc/passwd"))
            {
                if (fields.Length >= 4 && fields[0] == name
                    && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                    && int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
                {
                    return (uid, gid);
                }
            }
            return null;
        }

        public static int? FindGroup(string name)
        {
            foreach (var fields in Entries("/etc/group"))
            {
                if (fields.Length >= 3 && fields[0] == name && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
                {
                    return gid;
                }
            }
            return null;
        }

        private static IEnumerable<string[]> Entries(string file) =>
            File.Exists(file) ? File.ReadLines(file).Select(l => l.Split(':')) : [];
    }
}
