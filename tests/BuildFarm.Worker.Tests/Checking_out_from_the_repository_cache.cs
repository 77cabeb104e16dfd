using BuildFarm.Worker.Builds;
using BuildFarm.Worker.Sources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker.Tests;

public sealed class Checking_out_from_the_repository_cache : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Leaves_a_workspace_that_needs_nothing_from_the_mirror()
    {
        var first = _repository.Head;
        _repository.Commit("hello.spec", GitRepository.Spec("1.1"), "version 1.1");
        var cache = _worker.Get<RepositoryCache>();

        var checkout = await CheckOutAsync(first[..8]);
        Directory.Delete(cache.MirrorPathOf(_repository.Url), recursive: true);

        Assert.False(File.Exists(Path.Combine(checkout, ".git", "objects", "info", "alternates")));
        Assert.Equal(first, Git.Run(checkout, "rev-parse", "HEAD").Output.Trim());
        Assert.Equal(0, Git.Run(checkout, "fsck", "--full").ExitCode);
        Assert.Contains("Version: 1.0", await File.ReadAllTextAsync(Path.Combine(checkout, "hello.spec")));
        Assert.Equal("true", Git.Run(checkout, "rev-parse", "--is-shallow-repository").Output.Trim());
    }

    [Fact]
    public async Task Shares_no_file_with_the_mirror()
    {
        var checkout = await CheckOutAsync(_repository.Head);
        var mirror = _worker.Get<RepositoryCache>().MirrorPathOf(_repository.Url);

        var objects = Directory.GetFiles(Path.Combine(checkout, ".git", "objects"), "*", SearchOption.AllDirectories);
        var linked = objects
            .Where(f => LinkCount(f) > 1)
            .ToList();

        Assert.NotEmpty(objects);
        Assert.Empty(linked); // a local clone would have hard-linked the mirror's objects
        Assert.True(Directory.Exists(mirror));
    }

    private async Task<string> CheckOutAsync(string commit)
    {
        var request = TestWorker.Request(_repository.Url, commit);
        var options = _worker.Get<IOptions<WorkerOptions>>().Value;
        var workspace = _worker.Directories.Sub($"checkout-{Guid.NewGuid():N}");
        await using var log = new LogPump(request.BuildId, request.Attempt, request.ServerId, _worker.Events, TimeProvider.System, NullLogger.Instance);
        using var sandbox = _worker.Get<BuildFarm.Worker.Sandboxing.BuildSandbox>().Open($"checkout-{Guid.NewGuid():N}", workspace);
        var context = new BuildContext(request, workspace, log, options, sandbox, CancellationToken.None);
        await _worker.Get<GitCheckout>().CheckoutAsync(context);
        return context.CheckoutDirectory;
    }

    private static int LinkCount(string file)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%h", file]) { RedirectStandardOutput = true })!;
        var links = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return int.Parse(links, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
