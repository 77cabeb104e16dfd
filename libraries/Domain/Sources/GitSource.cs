using System.Text.RegularExpressions;

namespace BuildFarm.Domain.Sources;

/// <summary>
/// The rules a build's source must satisfy before any git command sees it: where a repository may
/// live, what a branch, commit and spec path may look like. Pure and static, shared by the Submission
/// gateway, the Scheduler and the Worker. Each check returns null when the value is valid, else a
/// sentence naming what is wrong. Nothing here ever trusts a value to be harmless on a command line:
/// values that git could read as an option, a remote helper or a credential are refused.
/// </summary>
public static partial class GitSource
{
    public const int MaxUrlLength = 2048;
    public const int MaxRefLength = 255;
    public const int MaxSpecPathLength = 1024;

    /// <summary>The transports git may use when file repositories are not allowed (GIT_ALLOW_PROTOCOL).</summary>
    public const string AllowedProtocols = "https:ssh:git";

    /// <summary>The value of GIT_ALLOW_PROTOCOL for a worker.</summary>
    public static string AllowedProtocolsFor(bool allowFile) => allowFile ? AllowedProtocols + ":file" : AllowedProtocols;

    /// <summary>
    /// Accepts https://, ssh:// (also git+ssh://), git:// and scp-like <c>user@host:path</c> URLs; file:// URLs and
    /// absolute local paths only when <paramref name="allowFile"/> is true. Refuses credentials in the URL,
    /// remote helpers (<c>ext::</c>), anything that starts with '-' and any whitespace or control character.
    /// </summary>
    public static string? RepositoryUrlError(string? url, bool allowFile)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "repository URL is required";
        }
        if (url.Length > MaxUrlLength)
        {
            return $"repository URL is longer than {MaxUrlLength} characters";
        }
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return "repository URL must not contain spaces or control characters";
        }
        if (url.StartsWith('-'))
        {
            return "repository URL must not start with '-'";
        }
        if (RemoteHelper().IsMatch(url))
        {
            return "repository URL must not name a git remote helper ('transport::address')";
        }

        var scheme = Scheme().Match(url);
        if (scheme.Success)
        {
            return SchemeUrlError(url, scheme.Groups[1].Value.ToLowerInvariant(), allowFile);
        }
        if (url.StartsWith('/') || url.StartsWith("./", StringComparison.Ordinal) || url.StartsWith("../", StringComparison.Ordinal))
        {
            if (!allowFile)
            {
                return "local repository paths are not allowed on this farm: use https://, ssh://, git:// or user@host:path";
            }
            return url.StartsWith('/') ? null : "a local repository path must be absolute";
        }
        var scp = ScpLike().Match(url);
        if (scp.Success)
        {
            var user = scp.Groups["user"].Value;
            var host = scp.Groups["host"].Value;
            var path = scp.Groups["path"].Value;
            if (user.StartsWith('-') || host.StartsWith('-') || path.StartsWith('-'))
            {
                return "repository URL: user, host and path must not start with '-'";
            }
            return null;
        }
        return "unsupported repository URL: use https://host/path, ssh://[user@]host/path, git://host/path or user@host:path";
    }

    /// <summary>A branch name by git's check-ref-format rules (as for <c>git check-ref-format --branch</c>).</summary>
    public static string? BranchError(string? branch)
    {
        if (string.IsNullOrEmpty(branch))
        {
            return "branch is required";
        }
        if (branch.Length > MaxRefLength)
        {
            return $"branch is longer than {MaxRefLength} characters";
        }
        if (branch.StartsWith('-'))
        {
            return "branch must not start with '-'";
        }
        if (branch == "@" || branch == "HEAD")
        {
            return $"'{branch}' is not a branch name";
        }
        foreach (var c in branch)
        {
            if (c < 0x20 || c == 0x7f || c == ' ')
            {
                return "branch must not contain spaces or control characters";
            }
            if (c is '~' or '^' or ':' or '?' or '*' or '[' or '\\')
            {
                return $"branch must not contain '{c}'";
            }
        }
        if (branch.Contains("..", StringComparison.Ordinal))
        {
            return "branch must not contain '..'";
        }
        if (branch.Contains("@{", StringComparison.Ordinal))
        {
            return "branch must not contain '@{'";
        }
        if (branch.StartsWith('/') || branch.EndsWith('/') || branch.Contains("//", StringComparison.Ordinal))
        {
            return "branch must not start or end with '/' or contain '//'";
        }
        if (branch.EndsWith('.'))
        {
            return "branch must not end with '.'";
        }
        foreach (var component in branch.Split('/'))
        {
            if (component.StartsWith('.'))
            {
                return "no part of a branch name may start with '.'";
            }
            if (component.EndsWith(".lock", StringComparison.Ordinal))
            {
                return "no part of a branch name may end with '.lock'";
            }
        }
        return null;
    }

    /// <summary>What a request names when it wants the tip of its branch (as does a request with no commit).</summary>
    public const string BranchTip = "HEAD";

    /// <summary>True when the request asks for the tip of its branch: no commit, or <c>HEAD</c>.</summary>
    public static bool IsBranchTip(string? commit) => string.IsNullOrWhiteSpace(commit) || commit.Trim() == BranchTip;

    /// <summary>
    /// A commit id: 7 to 40 hexadecimal digits (SHA-1, abbreviated or full) or 64 (SHA-256), or <c>HEAD</c> / none for
    /// the tip of the branch (resolved to the full commit by the build server that checks it out, and recorded).
    /// </summary>
    public static string? CommitError(string? commit)
    {
        if (IsBranchTip(commit))
        {
            return null;
        }
        return CommitHash().IsMatch(commit!)
            ? null
            : "commit hash must be 7 to 40 hexadecimal digits (or 64 for a SHA-256 repository), or HEAD for the tip of the branch";
    }

    /// <summary>True when <paramref name="commit"/> is a full commit id (40 or 64 hexadecimal digits).</summary>
    public static bool IsFullCommit(string? commit) =>
        commit is { Length: 40 or 64 } && commit.All(char.IsAsciiHexDigit);

    /// <summary>
    /// An optional spec path inside the repository: relative, no '..' part, no part starting with '-',
    /// ending in .spec. Null or empty is valid (the worker then takes the single *.spec at the root).
    /// </summary>
    public static string? SpecPathError(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        if (path.Length > MaxSpecPathLength)
        {
            return $"spec path is longer than {MaxSpecPathLength} characters";
        }
        if (path.Any(char.IsControl) || path.Contains('\\'))
        {
            return "spec path must not contain control characters or '\\'";
        }
        if (path.StartsWith('/'))
        {
            return "spec path must be relative to the repository root";
        }
        if (path.StartsWith('-'))
        {
            return "spec path must not start with '-'";
        }
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0)
            {
                return "spec path must not contain '//' or end with '/'";
            }
            if (part == "..")
            {
                return "spec path must not contain '..'";
            }
            if (part.StartsWith('-'))
            {
                return "no part of the spec path may start with '-'";
            }
        }
        return path.EndsWith(".spec", StringComparison.Ordinal) ? null : "spec path must end in .spec";
    }

    /// <summary>True when the commit names the same object as a full hash (case-insensitive prefix).</summary>
    public static bool SameCommit(string fullHash, string commit) =>
        fullHash.StartsWith(commit, StringComparison.OrdinalIgnoreCase);

    private static string? SchemeUrlError(string url, string scheme, bool allowFile)
    {
        switch (scheme)
        {
            case "file":
                if (!allowFile)
                {
                    return "file:// repositories are not allowed on this farm: use https://, ssh://, git:// or user@host:path";
                }
                return url.Length > "file://".Length && url["file://".Length..].StartsWith('/')
                    ? null
                    : "a file:// URL must name an absolute path (file:///path)";
            case "https" or "ssh" or "git" or "git+ssh" or "ssh+git":
                break;
            case "http":
                return "http:// is not allowed: use https://";
            default:
                return $"the '{scheme}' protocol is not allowed: use https://, ssh://, git:// or user@host:path";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return "repository URL is not a valid URL with a host";
        }
        if (uri.Host.StartsWith('-'))
        {
            return "repository URL host must not start with '-'";
        }
        if (uri.UserInfo.Length > 0)
        {
            if (scheme is "https" or "git")
            {
                return "repository URL must not contain credentials (user or password): configure them on the build server";
            }
            if (uri.UserInfo.Contains(':'))
            {
                return "repository URL must not contain a password";
            }
            if (uri.UserInfo.StartsWith('-'))
            {
                return "repository URL user must not start with '-'";
            }
        }
        return uri.AbsolutePath.Length > 1 ? null : "repository URL must name a repository path";
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*::", RegexOptions.CultureInvariant)]
    private static partial Regex RemoteHelper();

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*)://", RegexOptions.CultureInvariant)]
    private static partial Regex Scheme();

    // git treats "host:path" as scp-like only when a ':' comes before any '/'.
    [GeneratedRegex(@"^(?:(?<user>[A-Za-z0-9._-]+)@)?(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?<path>[^/:].*|/.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ScpLike();

    [GeneratedRegex("^(?:[0-9A-Fa-f]{7,40}|[0-9A-Fa-f]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitHash();
}
