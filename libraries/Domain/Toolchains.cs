using System.Text.RegularExpressions;

namespace BuildFarm.Domain;

/// <summary>
/// Toolchain names: <c>rpmbuild</c> (the host's rpmbuild, for noarch and native builds) or
/// <c>mock:&lt;config&gt;</c> (Fedora's mock with one of the build server's configurations).
/// </summary>
public static partial class Toolchains
{
    public const string Rpmbuild = "rpmbuild";
    public const string MockPrefix = "mock:";

    /// <summary>Null when valid, else a sentence saying what is wrong.</summary>
    public static string? Error(string? toolchain)
    {
        if (string.IsNullOrWhiteSpace(toolchain))
        {
            return "toolchain is required (rpmbuild or mock:<config>)";
        }
        if (toolchain == Rpmbuild)
        {
            return null;
        }
        if (toolchain.StartsWith(MockPrefix, StringComparison.Ordinal) && MockConfig().IsMatch(toolchain[MockPrefix.Length..]))
        {
            return null;
        }
        return $"unknown toolchain '{Shorten(toolchain)}': use rpmbuild or mock:<config> (letters, digits, '.', '_', '+', '-')";
    }

    /// <summary>The mock configuration of a <c>mock:</c> toolchain, or null.</summary>
    public static string? MockConfigOf(string toolchain) =>
        toolchain.StartsWith(MockPrefix, StringComparison.Ordinal) ? toolchain[MockPrefix.Length..] : null;

    internal static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex MockConfig();
}
