using System.ComponentModel.DataAnnotations;
using BuildFarm.Worker.Sources;

namespace BuildFarm.Worker.Tests;

public sealed class Naming_a_repository_mirror
{
    [Theory]
    [InlineData("https://github.com/owner/repo", "https://GitHub.com/owner/repo.git")]
    [InlineData("https://github.com/owner/repo", "https://github.com/owner/repo/")]
    [InlineData("ssh://git@host/owner/repo", "git+ssh://git@HOST/owner/repo.git")]
    [InlineData("git@github.com:owner/repo", "git@GITHUB.com:owner/repo.git")]
    [InlineData("file:///srv/git/repo", "/srv/git/repo.git")]
    public void Gives_spellings_of_one_repository_one_mirror(string url, string same) =>
        Assert.Equal(RepositoryCache.KeyOf(url), RepositoryCache.KeyOf(same));

    [Theory]
    [InlineData("https://github.com/owner/repo", "https://github.com/owner/Repo")]
    [InlineData("https://github.com/owner/repo", "https://gitlab.com/owner/repo")]
    [InlineData("https://github.com/owner/repo", "https://github.com/other/repo")]
    [InlineData("ssh://alice@host/repo", "ssh://bob@host/repo")]
    public void Gives_different_repositories_different_mirrors(string url, string other) =>
        Assert.NotEqual(RepositoryCache.KeyOf(url), RepositoryCache.KeyOf(other));

    [Theory]
    [InlineData("https://host/../../etc/passwd")]
    [InlineData("https://host/x;rm -rf ~")]
    [InlineData("--upload-pack=touch /tmp/x")]
    [InlineData("/srv/../../root/.ssh")]
    public void Names_the_directory_by_a_hash_and_never_by_the_url(string url)
    {
        var options = new WorkerOptions { WorkspaceRoot = "/var/buildfarm/workspaces" };

        var key = RepositoryCache.KeyOf(url);
        var path = Path.Combine(options.RepositoryCacheDirectory, key + ".git");

        Assert.Matches("^[0-9a-f]{32}$", key);
        Assert.Equal("/var/buildfarm/repositories", Path.GetDirectoryName(path));
    }

    [Fact]
    public void Keeps_the_cache_beside_the_workspace_root_unless_told_otherwise()
    {
        Assert.Equal("/srv/bf/repositories", new WorkerOptions { WorkspaceRoot = "/srv/bf/workspaces/" }.RepositoryCacheDirectory);
        Assert.Equal("/cache/git", new WorkerOptions { WorkspaceRoot = "/srv/bf/workspaces", RepositoryCacheRoot = "/cache/git" }.RepositoryCacheDirectory);
    }

    [Fact]
    public void Refuses_a_cache_that_is_the_workspace_root()
    {
        var options = new WorkerOptions { WorkspaceRoot = "/srv/bf/workspaces", RepositoryCacheRoot = "/srv/bf/workspaces/" };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        Assert.Contains(errors, e => e.ErrorMessage!.Contains("Worker:RepositoryCacheRoot", StringComparison.Ordinal));
    }
}
