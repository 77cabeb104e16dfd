using BuildFarm.Domain;
using BuildFarm.Submission.Projects;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Tests;

public sealed class Reading_a_branch_head : IDisposable
{
    private readonly BareRepository _repository = new();

    private static GitRemote Remote(bool allowFile) =>
        new(new SourcePolicy { AllowFileRepositories = allowFile }, Options.Create(new ProjectsOptions()));

    [Fact]
    public async Task Finds_the_head_of_the_branch()
    {
        var moved = _repository.Push();

        var head = await Remote(allowFile: true).ResolveBranchHeadAsync(_repository.Url, "main", CancellationToken.None);

        Assert.Equal(BranchHead.Found(moved), head);
    }

    [Fact]
    public async Task Says_when_the_branch_does_not_exist()
    {
        var head = await Remote(allowFile: true).ResolveBranchHeadAsync(_repository.Url, "release/9", CancellationToken.None);

        Assert.Null(head.Commit);
        Assert.Equal($"branch release/9 does not exist in repository {_repository.Url}", head.Error);
    }

    [Fact]
    public async Task Refuses_file_repositories_when_the_farm_does_not_allow_them()
    {
        var viaUrl = await Remote(allowFile: false).ResolveBranchHeadAsync(_repository.Url, "main", CancellationToken.None);
        var viaPath = await Remote(allowFile: false).ResolveBranchHeadAsync(_repository.BarePath, "main", CancellationToken.None);

        Assert.StartsWith("invalid source: file:// repositories are not allowed", viaUrl.Error, StringComparison.Ordinal);
        Assert.StartsWith("invalid source: local repository paths are not allowed", viaPath.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--upload-pack=touch /tmp/pwned", "main")]
    [InlineData("ext::sh", "main")]
    [InlineData("https://example.invalid/repo.git", "--output=/tmp/pwned")]
    public async Task Never_runs_git_with_a_value_it_could_read_as_an_option(string repository, string branch)
    {
        var head = await Remote(allowFile: true).ResolveBranchHeadAsync(repository, branch, CancellationToken.None);

        Assert.StartsWith("invalid source: ", head.Error, StringComparison.Ordinal);
    }

    public void Dispose() => _repository.Dispose();
}
