using BuildFarm.Domain.Sources;

namespace BuildFarm.Worker.Tests;

public sealed class Validating_a_build_source
{
    [Theory]
    [InlineData("https://github.com/rpm-software-management/mock.git")]
    [InlineData("https://gitlab.example.com:8443/group/sub/project")]
    [InlineData("ssh://git@github.com/owner/repo.git")]
    [InlineData("ssh://host.example/srv/git/repo")]
    [InlineData("git+ssh://git@host/owner/repo")]
    [InlineData("git://git.kernel.org/pub/scm/git/git.git")]
    [InlineData("git@github.com:owner/repo.git")]
    [InlineData("host.example:srv/repo.git")]
    public void Accepts_remote_repositories(string url) => Assert.Null(GitSource.RepositoryUrlError(url, allowFile: false));

    [Theory]
    [InlineData("--upload-pack=touch /tmp/x")]
    [InlineData("-oProxyCommand=x")]
    [InlineData("ext::sh -c touch% /tmp/x")]
    [InlineData("ext::sh")]
    [InlineData("fd::17")]
    [InlineData("; rm -rf /")]
    [InlineData("https://user:pass@host/x")]
    [InlineData("https://token@host/x")]
    [InlineData("git://user@host/x")]
    [InlineData("ssh://user:secret@host/x")]
    [InlineData("ssh://-oProxyCommand=x/y")]
    [InlineData("-host:path")]
    [InlineData("git@-oProxyCommand=x:path")]
    [InlineData("http://host/x")]
    [InlineData("ftp://host/x")]
    [InlineData("file:///srv/repo")]
    [InlineData("/srv/repo")]
    [InlineData("https://host/x\n--upload-pack=y")]
    [InlineData("https://host")]
    [InlineData("")]
    [InlineData(null)]
    public void Refuses_dangerous_or_unsupported_urls(string? url) =>
        Assert.NotNull(GitSource.RepositoryUrlError(url, allowFile: false));

    [Fact]
    public void Accepts_file_repositories_only_when_allowed()
    {
        Assert.Null(GitSource.RepositoryUrlError("file:///srv/repo", allowFile: true));
        Assert.Null(GitSource.RepositoryUrlError("/srv/repo", allowFile: true));
        Assert.NotNull(GitSource.RepositoryUrlError("relative/repo", allowFile: true));
        Assert.Contains("file://", GitSource.RepositoryUrlError("file:///srv/repo", allowFile: false));
        Assert.Equal("https:ssh:git:file", GitSource.AllowedProtocolsFor(true));
        Assert.Equal("https:ssh:git", GitSource.AllowedProtocolsFor(false));
    }

    [Theory]
    [InlineData("main")]
    [InlineData("release/1.2")]
    [InlineData("feature/x-y_z")]
    [InlineData("v1.0")]
    [InlineData("a@b")]
    public void Accepts_valid_branch_names(string branch) => Assert.Null(GitSource.BranchError(branch));

    [Theory]
    [InlineData("-o")]
    [InlineData("--upload-pack=touch /tmp/x")]
    [InlineData("; rm -rf /")]
    [InlineData("a..b")]
    [InlineData(".hidden")]
    [InlineData("dir/.hidden")]
    [InlineData("a.lock")]
    [InlineData("dir/a.lock/b")]
    [InlineData("/main")]
    [InlineData("main/")]
    [InlineData("a//b")]
    [InlineData("main.")]
    [InlineData("a@{1}")]
    [InlineData("@")]
    [InlineData("a b")]
    [InlineData("a~1")]
    [InlineData("a^")]
    [InlineData("a:b")]
    [InlineData("a?")]
    [InlineData("a*")]
    [InlineData("a[b")]
    [InlineData("a\\b")]
    [InlineData("a\tb")]
    [InlineData("a\u007fb")]
    [InlineData("")]
    [InlineData(null)]
    public void Refuses_branch_names_git_would_refuse_or_read_as_options(string? branch) =>
        Assert.NotNull(GitSource.BranchError(branch));

    [Theory]
    [InlineData("abc1234", true)]
    [InlineData("0123456789abcdef0123456789abcdef01234567", true)]
    [InlineData("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("abc123", false)]
    [InlineData("0123456789abcdef0123456789abcdef012345678", false)]
    [InlineData("xyz1234", false)]
    [InlineData("-abc1234", false)]
    [InlineData("HEAD", true)]
    [InlineData("", true)]
    [InlineData("head", false)]
    [InlineData("main", false)]
    public void Accepts_only_hex_commit_ids_or_HEAD_for_the_tip_of_the_branch(string commit, bool valid) =>
        Assert.Equal(valid, GitSource.CommitError(commit) is null);

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("hello.spec", true)]
    [InlineData("packaging/fedora/hello.spec", true)]
    [InlineData("/etc/hello.spec", false)]
    [InlineData("../hello.spec", false)]
    [InlineData("a/../../hello.spec", false)]
    [InlineData("-hello.spec", false)]
    [InlineData("dir/-x.spec", false)]
    [InlineData("hello.txt", false)]
    [InlineData("a//hello.spec", false)]
    public void Accepts_only_relative_spec_paths_inside_the_repository(string? path, bool valid) =>
        Assert.Equal(valid, GitSource.SpecPathError(path) is null);

    [Fact]
    public void Names_what_is_wrong()
    {
        Assert.Contains("credentials", GitSource.RepositoryUrlError("https://user:pass@host/x", false));
        Assert.Contains("'..'", GitSource.BranchError("a..b"));
        Assert.Contains("hexadecimal", GitSource.CommitError("zzz"));
        Assert.Contains(".spec", GitSource.SpecPathError("x.txt"));
    }
}
