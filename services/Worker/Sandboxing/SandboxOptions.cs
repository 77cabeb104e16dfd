using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Worker.Sandboxing;

/// <summary>
/// How build code is confined (configuration section <c>Worker:Sandbox</c>). Build commands run as
/// <see cref="User"/>, never as the Worker's user, with an environment built from an allowlist, in a cgroup of
/// their own with the limits below (prlimit where the host has no writable cgroups); rpmbuild also runs inside
/// bubblewrap with no network, a read-only system and only its workspace writable.
/// </summary>
public sealed class SandboxOptions
{
    /// <summary>
    /// Off only on a host that cannot sandbox (no bubblewrap, no user namespaces): builds then run as the Worker's
    /// user with its rights, which a farm that builds strangers' code must not do. Logged as a warning at start.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The unprivileged user build code runs as (<c>./farm up</c> creates <c>buildfarm-build</c>).</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[a-z_][a-z0-9_-]{0,31}$", ErrorMessage = "Worker:Sandbox:User must be a user name (lower-case letters, digits, '_' or '-').")]
    public string User { get; set; } = "buildfarm-build";

    /// <summary>The group mock's users belong to; the build user runs mock with it as a supplementary group.</summary>
    [Required(AllowEmptyStrings = false)]
    public string MockGroup { get; set; } = "mock";

    /// <summary>Builds may use the network (fetch sources at build time). Off by default: no network at all.</summary>
    public bool AllowNetwork { get; set; }

    /// <summary>The bubblewrap executable.</summary>
    [Required(AllowEmptyStrings = false)]
    public string BwrapCommand { get; set; } = "bwrap";

    /// <summary>Memory for all of one build's processes together (cgroup; address space per process without one).</summary>
    [Range(16, 1_048_576)]
    public int MemoryLimitMiB { get; set; } = 4096;

    /// <summary>Processes one build may have at once (cgroup; per user without one).</summary>
    [Range(8, 1_000_000)]
    public int ProcessLimit { get; set; } = 1024;

    /// <summary>CPU time one build may use, all its processes together (cgroup; per process without one).</summary>
    [Range(1, 604_800)]
    public int CpuTimeLimitSeconds { get; set; } = 4 * 3600;

    /// <summary>The largest file a build may write.</summary>
    [Range(1, 1_048_576)]
    public int FileSizeLimitMiB { get; set; } = 8192;

    /// <summary>Where the cgroup file systems are mounted.</summary>
    [Required(AllowEmptyStrings = false)]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";
}
