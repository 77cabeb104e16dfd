using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker;

/// <summary>
/// What this server really has, detected once at start: the executables it found and the architectures and
/// toolchains it advertises ("rpmbuild" when rpmbuild is found, "mock:&lt;config&gt;" per configured config
/// when mock is found).
/// </summary>
public sealed class WorkerCapabilities
{
    public WorkerCapabilities(IOptions<WorkerOptions> options)
    {
        var o = options.Value;
        Git = Executables.Find(o.GitCommand);
        Rpmbuild = Executables.Find(o.RpmbuildCommand);
        Mock = Executables.Find(o.MockCommand);

        var architectures = o.Architectures.Count > 0 ? new List<string>(o.Architectures) : [HostArchitecture()];
        if (!architectures.Contains("noarch"))
        {
            architectures.Add("noarch");
        }
        Architectures = architectures.Distinct(StringComparer.Ordinal).ToArray();

        var toolchains = new List<string>();
        if (Rpmbuild is not null)
        {
            toolchains.Add(Domain.Toolchains.Rpmbuild);
        }
        if (Mock is not null)
        {
            toolchains.AddRange(o.MockConfigs.Distinct(StringComparer.Ordinal).Select(c => Domain.Toolchains.MockPrefix + c));
        }
        _toolchains = toolchains;
    }

    /// <summary>Full path of git, or null when not found.</summary>
    public string? Git { get; }

    /// <summary>Full path of rpmbuild, or null when not found.</summary>
    public string? Rpmbuild { get; }

    /// <summary>Full path of mock, or null when not found.</summary>
    public string? Mock { get; }

    public IReadOnlyList<string> Architectures { get; }

    public IReadOnlyList<string> Toolchains => _toolchains;

    private readonly List<string> _toolchains;

    /// <summary>The RPM name of the host's architecture.</summary>
    public static string HostArchitecture() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.X86 => "i686",
        Architecture.Arm => "armv7hl",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        var other => other.ToString().ToLowerInvariant(),
    };
}
