using BuildFarm.Contracts;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// What a tool's exit code means for the farm: the build's own fault (BuildFailed, not retried) or the
/// farm's (InfrastructureFailed, retried elsewhere with backoff). mock's codes come from its source
/// (mockbuild/exception.py). The decisions:
/// <list type="table">
/// <item><term>10 rpmbuild failed, 31 unknown external dependency, 40 bad srpm/spec, 4 partial chain</term><description>BuildFailed: the package is wrong; another server would fail the same way.</description></item>
/// <item><term>1 generic, 2 no setuid wrapper, 3 unknown config, 5 command line, 6 architecture</term><description>InfrastructureFailed: this server's mock or its configuration is wrong, not the package.</description></item>
/// <item><term>20 chroot, 25 LVM, 30 package manager, 50 mock state, 60 root locked, 65 LVM pool locked, 70 result dir, 80 unshare, 110 state calls</term><description>InfrastructureFailed: the build root or its repositories failed.</description></item>
/// <item><term>11 mock's own command timeout</term><description>TimedOut.</description></item>
/// <item><term>128 + n (killed by signal n) without a stop request</term><description>InfrastructureFailed: something outside killed the build.</description></item>
/// <item><term>any other code</term><description>InfrastructureFailed: unknown codes are not blamed on the package (retries are bounded).</description></item>
/// </list>
/// rpmbuild: 0 succeeded; killed by a signal is InfrastructureFailed; any other non-zero code is BuildFailed.
/// </summary>
public static class ExitCodes
{
    public static RunResult Mock(int exitCode) => exitCode switch
    {
        0 => RunResult.Success,
        4 => RunResult.BuildFailure("mock built only some packages of the chain (exit 4)", exitCode),
        10 => RunResult.BuildFailure("rpmbuild failed in the mock root (exit 10): see build.log", exitCode),
        31 => RunResult.BuildFailure("a build dependency is unknown (exit 31): see root.log", exitCode),
        40 => RunResult.BuildFailure("the source package or spec is bad (exit 40): see build.log", exitCode),
        11 => new RunResult(BuildRunOutcome.TimedOut, "mock's command timeout expired (exit 11)", exitCode),
        1 => RunResult.InfrastructureFailure("mock failed with a generic error (exit 1)", exitCode),
        2 => RunResult.InfrastructureFailure("mock ran without its setuid wrapper (exit 2)", exitCode),
        3 => RunResult.InfrastructureFailure("the mock configuration is invalid or missing on this server (exit 3)", exitCode),
        5 => RunResult.InfrastructureFailure("mock refused its command line (exit 5)", exitCode),
        6 => RunResult.InfrastructureFailure("mock cannot build this architecture here (exit 6)", exitCode),
        20 => RunResult.InfrastructureFailure("the mock chroot failed (exit 20): see root.log", exitCode),
        25 => RunResult.InfrastructureFailure("mock's LVM handling failed (exit 25)", exitCode),
        30 => RunResult.InfrastructureFailure("the package manager failed in the mock root (exit 30): see root.log", exitCode),
        50 => RunResult.InfrastructureFailure("mock failed in its own state handling (exit 50)", exitCode),
        60 => RunResult.InfrastructureFailure("the mock build root is locked by another process (exit 60)", exitCode),
        65 => RunResult.InfrastructureFailure("mock's LVM thin pool is locked (exit 65)", exitCode),
        70 => RunResult.InfrastructureFailure("mock could not create the result directory (exit 70)", exitCode),
        80 => RunResult.InfrastructureFailure("mock could not unshare a namespace (exit 80)", exitCode),
        110 => RunResult.InfrastructureFailure("mock failed with unbalanced state calls (exit 110)", exitCode),
        > 128 and < 160 => RunResult.InfrastructureFailure($"mock was killed by signal {exitCode - 128} (exit {exitCode})", exitCode),
        _ => RunResult.InfrastructureFailure($"mock failed with unknown exit code {exitCode}", exitCode),
    };

    public static RunResult Rpmbuild(int exitCode) => exitCode switch
    {
        0 => RunResult.Success,
        > 128 and < 160 => RunResult.InfrastructureFailure($"rpmbuild was killed by signal {exitCode - 128} (exit {exitCode})", exitCode),
        _ => RunResult.BuildFailure($"rpmbuild failed with exit code {exitCode}: see the stderr log", exitCode),
    };
}
