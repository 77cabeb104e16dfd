namespace BuildFarm.Domain;

/// <summary>The RPM architectures the farm knows. A build server advertises the ones it can build for.</summary>
public static class Architectures
{
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        "x86_64", "aarch64", "ppc64le", "s390x", "i686", "armv7hl", "riscv64", "noarch",
    };
}
