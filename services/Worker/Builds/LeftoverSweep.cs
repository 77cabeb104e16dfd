using BuildFarm.Domain;
using BuildFarm.Domain.Artifacts;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Run once when a Worker starts, before it builds: removes what the attempts of an earlier Worker process left on
/// this host (their records in the <see cref="AttemptLedger"/>). For each: every process still in the attempt's cgroup,
/// in a process group it started, or working or chrooted inside its workspace or mock root, is killed with SIGKILL;
/// its mock root is scrubbed (<c>mock -r CONFIG --uniqueext build-ID-N --scrub=all</c>, as the build user), its
/// workspace and its partial copies in the artifact store's incoming directory are removed, then its record. Only what
/// the records name is touched: other servers on the same host keep theirs.
/// </summary>
internal sealed class LeftoverSweep(
    WorkerOptions options,
    WorkerCapabilities capabilities,
    Sandboxing.BuildSandbox sandbox,
    AttemptLedger ledger,
    ArtifactStore store,
    BuildFarm.Semaphore.IFarmSemaphore semaphore,
    ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var (file, record) in ledger.Leftovers())
        {
            if (record is null)
            {
                logger.LogWarning("Removing an unreadable attempt record {File}", file);
                File.Delete(file);
                continue;
            }
            logger.LogWarning("Cleaning up after build {BuildId} attempt {Attempt}, left by an earlier Worker process", record.BuildId, record.Attempt);
            var mockRoot = MockRoot(record);
            var killed = Kill(record, mockRoot);
            if (Toolchains.MockConfigOf(record.Toolchain) is { } config && capabilities.Mock is { } mock && Directory.Exists(mockRoot))
            {
                await ScrubAsync(record, mock, config, cancellationToken).ConfigureAwait(false);
            }
            WorkspaceDirectory.Delete(record.Workspace, logger);
            // The dead process's build slot goes back to the farm now, not when its lease runs out (a minute later).
            try
            {
                if (await semaphore.ReleaseAbandonedAsync($"{record.BuildId}:{record.Attempt}").ConfigureAwait(false))
                {
                    logger.LogInformation("Released the build slot of build {BuildId} attempt {Attempt}", record.BuildId, record.Attempt);
                }
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                logger.LogWarning(ex, "Could not release the build slot of build {BuildId} attempt {Attempt}; its lease runs out by itself", record.BuildId, record.Attempt);
            }
            foreach (var partial in store.IncomingOf(AttemptLedger.ArtifactOwner(record.BuildId, record.Attempt)))
            {
                File.Delete(partial);
            }
            File.Delete(file);
            logger.LogInformation("Build {BuildId} attempt {Attempt}: {Killed} leftover processes killed, workspace and build root removed",
                record.BuildId, record.Attempt, killed);
        }
    }

    /// <summary>The attempt's mock root (<c>MOCK_ROOT_BASE</c> or /var/lib/mock, then CONFIG-build-ID-N), or null for rpmbuild.</summary>
    private string? MockRoot(AttemptRecord record)
    {
        if (Toolchains.MockConfigOf(record.Toolchain) is not { } config || Toolchains.Error(record.Toolchain) is not null)
        {
            return null;
        }
        var rootBase = options.BuildEnvironment.TryGetValue("MOCK_ROOT_BASE", out var configured) && configured.Length > 0 ? configured : "/var/lib/mock";
        return Path.Combine(rootBase, $"{config}-build-{record.BuildId:D}-{record.Attempt}");
    }

    /// <summary>Kills the attempt's processes, a few rounds (one may fork while the others die); returns how many.</summary>
    private int Kill(AttemptRecord record, string? mockRoot)
    {
        var killed = 0;
        if (record.Cgroup is { } name && sandbox.Cgroups is { } cgroups)
        {
            var group = cgroups.Existing(name);
            killed += group.ProcessCount;
            group.Remove();
        }
        var places = new[] { record.Workspace, mockRoot }.OfType<string>().Select(p => Path.GetFullPath(p).TrimEnd('/') + "/").ToArray();
        for (var round = 0; round < 20; round++)
        {
            var found = 0;
            foreach (var (pid, groupId) in ProcessTable.All())
            {
                if (pid == Environment.ProcessId)
                {
                    continue;
                }
                if (record.Groups.Any(g => g.Id == groupId && StillOurs(g)) || Inside(pid, places))
                {
                    Sandboxing.Native.Kill(pid, Sandboxing.Native.SigKill);
                    found++;
                }
            }
            if (found == 0)
            {
                break;
            }
            killed += found;
            Thread.Sleep(50);
        }
        return killed;
    }

    /// <summary>
    /// Whether a process group with this id is still the one the attempt started: its leader lives with the recorded start
    /// time, or the leader is gone (a group id is not reused while any member of the group lives).
    /// </summary>
    private static bool StillOurs(ProcessGroup group) =>
        ProcessTable.StartTicks(group.Id) is not { } ticks || ticks == group.StartTicks;

    private static bool Inside(int pid, string[] places)
    {
        var (cwd, root) = ProcessTable.Places(pid);
        return places.Any(p => (cwd is not null && (cwd + "/").StartsWith(p, StringComparison.Ordinal))
            || (root is not null && root != "/" && (root + "/").StartsWith(p, StringComparison.Ordinal)));
    }

    private async Task ScrubAsync(AttemptRecord record, string mock, string config, CancellationToken cancellationToken)
    {
        var workingDirectory = Directory.Exists(record.Workspace) ? record.Workspace : options.WorkspaceRoot;
        Directory.CreateDirectory(workingDirectory);
        using var session = sandbox.Open($"{record.BuildId:N}-{record.Attempt}-sweep", workingDirectory);
        var command = session.Wrap(new CommandLine(mock,
            ["-r", config, "--uniqueext", $"build-{record.BuildId:D}-{record.Attempt}", "--scrub=all"],
            workingDirectory, Sandboxing.BuildSandbox.BaseEnvironment(options, home: workingDirectory)), Sandboxing.Confinement.Mock);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(5));
        var output = new RecentOutput();
        var exit = await ChildProcess.RunAsync(command, s => DrainAsync(s, output), s => DrainAsync(s, output), options.StopGracePeriod, limit.Token)
            .ConfigureAwait(false);
        if (exit.ExitCode != 0)
        {
            logger.LogWarning("Scrubbing the mock root of build {BuildId} attempt {Attempt} failed with exit code {ExitCode}: {Output}",
                record.BuildId, record.Attempt, exit.ExitCode, output.LastLine());
        }
    }

    private static async Task DrainAsync(Stream source, RecentOutput output)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            output.Append(buffer.AsSpan(0, read));
        }
    }
}
