using System.Diagnostics;
using BuildFarm.Contracts;
using BuildFarm.Worker.Tests.Support;

namespace BuildFarm.Worker.Tests;

/// <summary>A build server whose disk fills up during a build (a small tmpfs as the workspace's file system).</summary>
public sealed class Running_out_of_disk : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private readonly string _disk = Path.Combine(Path.GetTempPath(), $"bf-small-disk-{Guid.NewGuid():N}");
    private TestWorker? _worker;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_disk);
        Run("mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "tmpfs", _disk);
        return Task.CompletedTask;
    }

    /// <summary>A Worker whose workspaces are on the 24 MiB disk and which wants 4 MiB free to call a failure its build's own.</summary>
    private TestWorker WorkerOnTheSmallDisk() => new(o =>
    {
        o.WorkspaceRoot = Path.Combine(_disk, "workspaces");
        o.MinFreeDiskBytes = 4 * 1024 * 1024;
    });

    [Fact]
    public async Task A_build_that_failed_because_the_disk_is_full_is_an_infrastructure_failure_retried_elsewhere()
    {
        _worker = WorkerOnTheSmallDisk();
        // %install writes more than the disk holds: dd fails with ENOSPC and rpmbuild with it.
        _repository.Commit("hello.spec", GitRepository.Spec("1.0", "dd if=/dev/zero of=%{buildroot}/usr/share/hello/fill bs=1M count=64"), "fill the disk");
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head), TimeSpan.FromSeconds(120));

        Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
        Assert.Contains("disk is full", finished.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_that_fails_by_itself_with_room_on_the_disk_is_the_builds_own_failure()
    {
        _worker = WorkerOnTheSmallDisk();
        _repository.Commit("hello.spec", GitRepository.Spec("1.0", "echo 'No space left on device' >&2; exit 1"), "fail");
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head), TimeSpan.FromSeconds(120));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
    }

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }
        Run("umount", "-l", _disk);
        Directory.Delete(_disk, recursive: true);
        _repository.Dispose();
    }

    private static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} failed: {error}");
    }
}
