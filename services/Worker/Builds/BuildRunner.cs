using System.Collections.Concurrent;
using System.Diagnostics;
using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Semaphore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Runs the attempts dispatched to this server in the background, at most
/// <see cref="WorkerOptions.MaxConcurrentBuilds"/> at once (the rest wait in the process): a farm-wide slot,
/// the checkout, the toolchain, the artifacts, and one <see cref="BuildRunFinished"/> whatever happens. A
/// duplicate dispatch is ignored; at shutdown no new work is taken and running builds are finished or
/// handed back within the grace period.
/// </summary>
public sealed class BuildRunner : IHostedService, IDisposable
{
    private static readonly TimeSpan ForgetFinishedAfter = TimeSpan.FromHours(6);
    private static readonly ResiliencePropertyKey<BuildRunFinished> FinishedKey = new("buildfarm.build-run-finished");

    private readonly WorkerOptions _options;
    private readonly WorkerSettings _settings;
    private readonly WorkerCapabilities _capabilities;
    private readonly IFarmSemaphore _semaphore;
    private readonly IBuildEvents _events;
    private readonly GitCheckout _git;
    private readonly Sandboxing.BuildSandbox _sandbox;
    private readonly ArtifactStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<BuildRunner> _logger;
    private readonly WorkerInstance _instance;
    private readonly AttemptLedger _ledger;
    private readonly Lazy<Task> _swept;
    private readonly ConcurrentDictionary<(Guid BuildId, int Attempt), BuildRun> _runs = new();
    private readonly SemaphoreSlim _permits;
    private readonly ResiliencePipeline _recordFinished;
    private volatile bool _stopping;

    internal BuildRunner(
        IOptions<WorkerOptions> options,
        WorkerSettings settings,
        WorkerCapabilities capabilities,
        IFarmSemaphore semaphore,
        IBuildEvents events,
        GitCheckout git,
        Sandboxing.BuildSandbox sandbox,
        TimeProvider time,
        ILogger<BuildRunner> logger,
        WorkerInstance instance)
    {
        _options = options.Value;
        _settings = settings;
        _capabilities = capabilities;
        _semaphore = semaphore;
        _events = events;
        _git = git;
        _sandbox = sandbox;
        _time = time;
        _logger = logger;
        _store = new ArtifactStore(_options.ArtifactStore);
        _instance = instance;
        _ledger = new AttemptLedger(_options);
        var sweep = new LeftoverSweep(_options, capabilities, sandbox, _ledger, _store, semaphore, logger);
        _swept = new Lazy<Task>(() => SweepAsync(sweep));
        _permits = new SemaphoreSlim(_options.MaxConcurrentBuilds, _options.MaxConcurrentBuilds);
        // Recording a build's end is tried until it succeeds, 1 s after the first failure, then a second more each time up to 10 s.
        _recordFinished = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(),
                MaxRetryAttempts = int.MaxValue,
                DelayGenerator = args => new ValueTask<TimeSpan?>(TimeSpan.FromSeconds(Math.Min(args.AttemptNumber + 1, 10))),
                OnRetry = args =>
                {
                    args.Context.Properties.TryGetValue(FinishedKey, out var finished);
                    _logger.LogWarning(args.Outcome.Exception, "Recording the end of build {BuildId} attempt {Attempt} failed ({Tries} tries); trying again",
                        finished?.BuildId, finished?.Attempt, args.AttemptNumber + 1);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Attempts accepted and not finished (waiting or building).</summary>
    public int ActiveBuilds => _runs.Values.Count(r => r.FinishedAt is null);

    /// <summary>The attempts accepted and not finished, for the heartbeat.</summary>
    public IReadOnlyList<RunningAttempt> RunningAttempts =>
        _runs.Where(r => r.Value.FinishedAt is null)
            .Select(r => new RunningAttempt { BuildId = r.Key.BuildId, Attempt = r.Key.Attempt })
            .ToList();

    /// <summary>True once shutdown began: dispatches are handed back.</summary>
    public bool Stopping => _stopping;

    /// <summary>The artifact store builds are copied into.</summary>
    public ArtifactStore Store => _store;

    /// <summary>
    /// Takes a dispatch and runs it in the background; returns without waiting for the build. The dispatch is
    /// acknowledged by the attempt's first report: <see cref="BuildRunStarted"/> (or its end) when that comes within
    /// <see cref="WorkerOptions.AcknowledgeWithin"/>, else <see cref="BuildRunAccepted"/> then.
    /// </summary>
    public async Task<DispatchDecision> DispatchAsync(DispatchBuild message, CancellationToken cancellationToken)
    {
        if (!string.Equals(message.ServerId, _options.ServerId, StringComparison.OrdinalIgnoreCase))
        {
            _logger.LogWarning("Ignoring build {BuildId} attempt {Attempt} dispatched to {ServerId}: this is {Self}",
                message.BuildId, message.Attempt, message.ServerId, _options.ServerId);
            return DispatchDecision.WrongServer;
        }
        ForgetOldRuns();
        var run = new BuildRun(message);
        if (!_runs.TryAdd(run.Key, run))
        {
            _logger.LogInformation("Ignoring a duplicate dispatch of build {BuildId} attempt {Attempt}", message.BuildId, message.Attempt);
            run.Dispose();
            return DispatchDecision.Duplicate;
        }
        if (_stopping)
        {
            run.FinishedAt = _time.GetUtcNow();
            await PublishFinishedAsync(message, RunResult.InfrastructureFailure("worker shutting down"), null, []).ConfigureAwait(false);
            return DispatchDecision.HandedBack;
        }
        if (_options.AcknowledgeWithin <= TimeSpan.Zero)
        {
            try
            {
                await run.AcknowledgeAsync(() => PublishAcceptedAsync(message, cancellationToken)).ConfigureAwait(false);
            }
            catch
            {
                _runs.TryRemove(run.Key, out _);
                run.Dispose();
                throw;
            }
        }
        run.Completion = Task.Run(() => RunAsync(run), CancellationToken.None);
        return DispatchDecision.Accepted;
    }

    private Task PublishAcceptedAsync(DispatchBuild message, CancellationToken cancellationToken) => _events.PublishAsync(new BuildRunAccepted
    {
        BuildId = message.BuildId,
        Attempt = message.Attempt,
        ServerId = _options.ServerId,
        InstanceId = _instance.Id,
        AcceptedAt = _time.GetUtcNow(),
    }, cancellationToken);

    /// <summary>Acknowledges the dispatch with <see cref="BuildRunAccepted"/> if no report did within the time allowed.</summary>
    private async Task AcknowledgeLaterAsync(BuildRun run, Task finished)
    {
        await Task.WhenAny(finished, Task.Delay(_options.AcknowledgeWithin, _time)).ConfigureAwait(false);
        try
        {
            await run.AcknowledgeAsync(() => PublishAcceptedAsync(run.Request, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "Could not acknowledge build {BuildId} attempt {Attempt}; its start will", run.Request.BuildId, run.Request.Attempt);
        }
    }

    /// <summary>Stops an attempt that is waiting or running here; false when it is unknown or finished.</summary>
    public bool Stop(Guid buildId, int attempt, BuildRunOutcome outcome, string? reason)
    {
        if (!_runs.TryGetValue((buildId, attempt), out var run) || run.FinishedAt is not null)
        {
            return false;
        }
        var why = outcome switch
        {
            BuildRunOutcome.TimedOut => new RunResult(BuildRunOutcome.TimedOut, reason ?? "stopped: the build ran too long"),
            BuildRunOutcome.Cancelled => new RunResult(BuildRunOutcome.Cancelled, reason ?? "cancelled"),
            _ => new RunResult(outcome, reason ?? "stopped by the scheduler"),
        };
        _logger.LogInformation("Stopping build {BuildId} attempt {Attempt} as {Outcome}", buildId, attempt, why.Outcome);
        return run.RequestStop(why);
    }

    /// <summary>Waits until the attempt finished here (for tests and shutdown); false when it is unknown.</summary>
    internal Task? CompletionOf(Guid buildId, int attempt) =>
        _runs.TryGetValue((buildId, attempt), out var run) ? run.Completion : null;

    /// <summary>Before it builds, removes what the attempts of an earlier Worker process left (see <see cref="LeftoverSweep"/>).</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _swept.Value;

    private async Task SweepAsync(LeftoverSweep sweep)
    {
        try
        {
            await sweep.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Cleaning up after an earlier Worker process failed; building anyway");
        }
    }

    /// <summary>Takes no new work; lets running builds finish within the grace period, then hands them back.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var handBack = RunResult.InfrastructureFailure("worker shutting down");
        foreach (var run in _runs.Values.Where(r => r.FinishedAt is null && !r.Started))
        {
            run.RequestStop(handBack);
        }
        var running = _runs.Values.Where(r => r.FinishedAt is null).Select(r => r.Completion).ToArray();
        var all = Task.WhenAll(running);
        if (running.Length > 0)
        {
            _logger.LogInformation("Shutting down: waiting up to {Grace} for {Count} builds", _options.ShutdownGracePeriod, running.Length);
            await Task.WhenAny(all, Task.Delay(_options.ShutdownGracePeriod, CancellationToken.None)).ConfigureAwait(false);
        }
        foreach (var run in _runs.Values.Where(r => r.FinishedAt is null))
        {
            run.RequestStop(handBack);
        }
        await all.ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var run in _runs.Values)
        {
            run.Dispose();
        }
        _permits.Dispose();
    }

    private async Task RunAsync(BuildRun run)
    {
        var request = run.Request;
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = request.BuildId, ["Attempt"] = request.Attempt });
        var log = new LogPump(request.BuildId, request.Attempt, _options.ServerId, _events, _time, _logger);
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acknowledged = _options.AcknowledgeWithin > TimeSpan.Zero ? AcknowledgeLaterAsync(run, reported.Task) : Task.CompletedTask;
        RunResult result;
        long? fencingToken = null;
        IReadOnlyList<Artifact> artifacts = [];
        try
        {
            await _swept.Value.ConfigureAwait(false);
            (result, fencingToken, artifacts) = await ExecuteAsync(run, log).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Build {BuildId} attempt {Attempt} failed in the worker", request.BuildId, request.Attempt);
            result = RunResult.InfrastructureFailure($"the worker failed: {ex.Message}");
        }
        finally
        {
            await log.DisposeAsync().ConfigureAwait(false);
        }
        run.FinishedAt = _time.GetUtcNow();
        _logger.LogInformation("Build {BuildId} attempt {Attempt} finished: {Outcome} {Reason}",
            request.BuildId, request.Attempt, result.Outcome, result.Reason);
        await run.ReportAsync(() => PublishFinishedAsync(request, result, fencingToken, artifacts, run.Commit)).ConfigureAwait(false);
        reported.TrySetResult();
        await acknowledged.ConfigureAwait(false);
    }

    private async Task<(RunResult, long?, IReadOnlyList<Artifact>)> ExecuteAsync(BuildRun run, LogPump log)
    {
        var request = run.Request;
        if (GitCheckout.SourceError(request.SourceRepository, request.Branch, request.CommitHash, request.SpecPath,
                _options.AllowFileRepositories) is { } sourceError)
        {
            return (RunResult.BuildFailure($"invalid source: {sourceError}"), null, []);
        }
        try
        {
            await _permits.WaitAsync(run.StopToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (run.StopResult, null, []);
        }
        run.Started = true;
        try
        {
            return await BuildAsync(run, log).ConfigureAwait(false);
        }
        finally
        {
            _permits.Release();
        }
    }

    private async Task<(RunResult, long?, IReadOnlyList<Artifact>)> BuildAsync(BuildRun run, LogPump log)
    {
        var request = run.Request;
        var workspace = Path.Combine(_options.WorkspaceRoot, $"{request.BuildId:D}-{request.Attempt}");
        var cgroup = $"{request.BuildId:N}-{request.Attempt}";
        // Written before anything is made, removed after everything is cleaned up: what a Worker that died leaves, the next one sweeps.
        var record = _ledger.Open(request.BuildId, request.Attempt, workspace, request.Toolchain,
            _sandbox.Enabled && _sandbox.Cgroups is not null ? cgroup : null);
        ChildProcess.Observer.Value = record.AddGroup;
        try
        {
            return await BuildInAsync(run, log, workspace, cgroup).ConfigureAwait(false);
        }
        finally
        {
            ChildProcess.Observer.Value = null;
            record.Complete();
        }
    }

    /// <summary>
    /// The source is checked out before the farm-wide slot is asked for, so a slot handed over starts the toolchain
    /// at once (and a source that cannot be fetched takes no slot); the slot is given back as soon as the toolchain's
    /// processes ended, before the artifacts are stored, the build root scrubbed and the workspace removed (this
    /// server's own permit covers those).
    /// </summary>
    private async Task<(RunResult, long?, IReadOnlyList<Artifact>)> BuildInAsync(BuildRun run, LogPump log, string workspace, string cgroup)
    {
        var request = run.Request;
        using var sandbox = _sandbox.Open(cgroup, workspace);
        var context = new BuildContext(request, workspace, log, _options, sandbox, run.StopToken);
        sandbox.WatchCpu(reason => run.RequestStop(RunResult.BuildFailure(reason)));
        var minutes = request.MaxBuildMinutes > 0 ? request.MaxBuildMinutes : _settings.MaxBuildMinutes;
        IToolchain? toolchain = null;
        SlotLease? lease = null;
        long? fencingToken = null;
        CancellationTokenRegistration lost = default;
        async Task ReleaseAsync()
        {
            await lost.DisposeAsync().ConfigureAwait(false);
            if (Interlocked.Exchange(ref lease, null) is { } held)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }
        }
        try
        {
            toolchain = ResolveToolchain(request);
            WorkspaceDirectory.Delete(workspace, _logger);
            Directory.CreateDirectory(workspace);

            using (Deadline(run, minutes, "the checkout ran longer than"))
            using (var checkout = WorkerTelemetry.Source.StartActivity("build.checkout"))
            {
                checkout?.SetTag("buildfarm.repository", request.SourceRepository);
                checkout?.SetTag("buildfarm.commit", request.CommitHash);
                run.Commit = await _git.CheckoutAsync(context).ConfigureAwait(false);
                checkout?.SetTag("buildfarm.commit.resolved", run.Commit);
            }
            context.SpecFile = FindSpec(context.CheckoutDirectory, request.SpecPath);

            lease = await AcquireSlotAsync(run).ConfigureAwait(false);
            fencingToken = lease.FencingToken;
            lost = lease.Lost.Register(() => run.RequestStop(RunResult.InfrastructureFailure("build slot lease lost")));
            await run.ReportAsync(() => _events.PublishAsync(new BuildRunStarted
            {
                BuildId = request.BuildId,
                Attempt = request.Attempt,
                ServerId = _options.ServerId,
                InstanceId = _instance.Id,
                FencingToken = lease.FencingToken,
                StartedAt = _time.GetUtcNow(),
            }, CancellationToken.None)).ConfigureAwait(false);

            using var deadline = Deadline(run, minutes, "the build ran longer than");
            RunResult result;
            using (var build = WorkerTelemetry.Source.StartActivity("build.run"))
            {
                build?.SetTag("buildfarm.toolchain", request.Toolchain);
                result = await toolchain.BuildAsync(context).ConfigureAwait(false);
                build?.SetTag("buildfarm.outcome", result.Outcome.ToString());
            }
            if (run.StopToken.IsCancellationRequested)
            {
                result = run.StopResult;
            }
            if (result.Outcome is BuildRunOutcome.Succeeded or BuildRunOutcome.BuildFailed
                && sandbox.ExceededLimit(context.RecentStderr.ToString()) is { } limit)
            {
                // A limit hit anywhere in the build fails it, even when the command that hit it was in the background.
                result = RunResult.BuildFailure(limit, result.ExitCode);
            }
            if (result.Outcome == BuildRunOutcome.BuildFailed && DiskFull(workspace) is { } full)
            {
                result = RunResult.InfrastructureFailure(full, result.ExitCode);
            }
            // The build's processes have ended: the next build may start while this one's artifacts are stored.
            await ReleaseAsync().ConfigureAwait(false);

            var artifacts = new List<Artifact>();
            using (WorkerTelemetry.Source.StartActivity("build.artifacts"))
            {
                foreach (var (file, kind) in toolchain.Outputs(context, result.Outcome == BuildRunOutcome.Succeeded))
                {
                    artifacts.Add(await _store.AddAsync(file, kind, CancellationToken.None, within: workspace,
                        owner: AttemptLedger.ArtifactOwner(request.BuildId, request.Attempt)).ConfigureAwait(false));
                }
            }
            if (result.Outcome == BuildRunOutcome.Succeeded && !artifacts.Any(a => a.Kind == ArtifactKinds.Rpm))
            {
                result = RunResult.BuildFailure("the build succeeded but produced no binary package");
            }
            return (result, fencingToken, artifacts);
        }
        catch (BuildStepException ex)
        {
            return (run.StopToken.IsCancellationRequested ? run.StopResult : ex.Result, fencingToken, []);
        }
        catch (OperationCanceledException) when (run.StopToken.IsCancellationRequested)
        {
            return (run.StopResult, fencingToken, []);
        }
        catch (InvalidDataException ex)
        {
            return (RunResult.BuildFailure($"an output of the build was refused: {ex.Message}"), fencingToken, []);
        }
        finally
        {
            await ReleaseAsync().ConfigureAwait(false);
            if (toolchain is not null)
            {
                try
                {
                    await toolchain.CleanUpAsync(context).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    _logger.LogWarning(ex, "Cleaning up after build {BuildId} attempt {Attempt} failed", request.BuildId, request.Attempt);
                }
            }
            WorkspaceDirectory.Delete(workspace, _logger);
        }
    }

    /// <summary>
    /// Waits for a farm-wide slot; a wait longer than the dispatch allows (a build placed ahead of a free slot may wait
    /// longer) or else the farm's SlotWaitTimeout fails the attempt as infrastructure.
    /// </summary>
    private async Task<SlotLease> AcquireSlotAsync(BuildRun run)
    {
        var request = run.Request;
        var wait = request.SlotWaitTimeoutSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : _settings.SlotWaitTimeout;
        BuildPriorities.TryParse(request.Priority, out var priority);
        using var activity = WorkerTelemetry.Source.StartActivity("build.slot");
        try
        {
            return await _semaphore.AcquireAsync(
                new SlotRequest($"{request.BuildId}:{request.Attempt}", _options.ServerId, (int)priority, wait),
                run.StopToken).ConfigureAwait(false);
        }
        catch (SlotWaitTimeoutException ex)
        {
            throw new BuildStepException(RunResult.InfrastructureFailure($"no build slot within {ex.Waited.TotalSeconds:0} s"));
        }
    }

    /// <summary>Stops the attempt as timed out when a step runs longer than the build may (the slot wait is not counted).</summary>
    private IDisposable Deadline(BuildRun run, int minutes, string what)
    {
        var timer = new CancellationTokenSource(TimeSpan.FromMinutes(minutes), _time);
        timer.Token.Register(() => run.RequestStop(new RunResult(BuildRunOutcome.TimedOut, $"{what} {minutes} minutes")));
        return timer;
    }

    /// <summary>
    /// Why a failed build may have failed for want of disk: a file system it writes to (checked before its workspace is
    /// removed) has less than <see cref="WorkerOptions.MinFreeDiskBytes"/> free. Build code cannot fake it except by
    /// filling the disk, which the sandbox's output limit bounds, and retries are bounded.
    /// </summary>
    private string? DiskFull(string workspace)
    {
        foreach (var path in new[] { workspace, "/var/lib/mock" }.Where(Directory.Exists))
        {
            try
            {
                var free = new DriveInfo(path).AvailableFreeSpace;
                if (free < _options.MinFreeDiskBytes)
                {
                    return $"the build server's disk is full ({free} bytes free for {path}, below {_options.MinFreeDiskBytes})";
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                _logger.LogWarning(ex, "Could not read the free space for {Path}", path);
            }
        }
        return null;
    }

    private IToolchain ResolveToolchain(DispatchBuild request)
    {
        if (Toolchains.Error(request.Toolchain) is { } error)
        {
            throw new BuildStepException(RunResult.BuildFailure($"invalid toolchain: {error}"));
        }
        if (!_capabilities.Architectures.Contains(request.TargetArchitecture))
        {
            throw new BuildStepException(RunResult.InfrastructureFailure(
                $"server {_options.ServerId} does not build for {request.TargetArchitecture}"));
        }
        if (request.Toolchain == Toolchains.Rpmbuild)
        {
            return new RpmbuildToolchain(_capabilities.Rpmbuild ?? throw new BuildStepException(
                RunResult.InfrastructureFailure($"rpmbuild is not available on server {_options.ServerId}")));
        }
        var config = Toolchains.MockConfigOf(request.Toolchain)!;
        if (_capabilities.Mock is null || !_capabilities.Toolchains.Contains(request.Toolchain))
        {
            throw new BuildStepException(RunResult.InfrastructureFailure(
                $"toolchain {request.Toolchain} is not available on server {_options.ServerId}"));
        }
        return new MockToolchain(_capabilities.Mock, config, _logger);
    }

    /// <summary>The spec to build: the request's path inside the checkout, or the single *.spec at its root.</summary>
    internal static string FindSpec(string checkout, string? specPath)
    {
        var root = Path.GetFullPath(checkout) + Path.DirectorySeparatorChar;
        string spec;
        if (!string.IsNullOrEmpty(specPath))
        {
            spec = Path.GetFullPath(Path.Combine(root, specPath));
            if (!spec.StartsWith(root, StringComparison.Ordinal) || !File.Exists(spec))
            {
                throw new BuildStepException(RunResult.BuildFailure($"spec file {specPath} is not in the repository"));
            }
        }
        else
        {
            var specs = Directory.GetFiles(root, "*.spec", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).ToArray();
            spec = specs.Length switch
            {
                1 => specs[0],
                0 => throw new BuildStepException(RunResult.BuildFailure("no .spec file at the repository root: give specPath")),
                _ => throw new BuildStepException(RunResult.BuildFailure(
                    $"several .spec files at the repository root ({string.Join(", ", specs.Select(Path.GetFileName))}): give specPath")),
            };
        }
        if (File.ResolveLinkTarget(spec, returnFinalTarget: true) is { } target
            && !Path.GetFullPath(target.FullName).StartsWith(root, StringComparison.Ordinal))
        {
            throw new BuildStepException(RunResult.BuildFailure($"spec file {Path.GetFileName(spec)} links outside the repository"));
        }
        return spec;
    }

    private async Task PublishFinishedAsync(
        DispatchBuild request, RunResult result, long? fencingToken, IReadOnlyList<Artifact> artifacts, string? commit = null)
    {
        var message = new BuildRunFinished
        {
            BuildId = request.BuildId,
            Attempt = request.Attempt,
            ServerId = _options.ServerId,
            Outcome = result.Outcome,
            Reason = result.Reason,
            ExitCode = result.ExitCode,
            FencingToken = fencingToken,
            FinishedAt = _time.GetUtcNow(),
            Artifacts = artifacts,
            Commit = commit,
        };
        // In the service this writes the result to the durable spool, which sends it once the broker takes it; it is
        // never given up.
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        context.Properties.Set(FinishedKey, message);
        try
        {
            await _recordFinished.ExecuteAsync(
                async (ctx, events) => await events.PublishAsync(ctx.Properties.GetValue(FinishedKey, message), ctx.CancellationToken).ConfigureAwait(false),
                context, _events).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void ForgetOldRuns()
    {
        var before = _time.GetUtcNow() - ForgetFinishedAfter;
        foreach (var (key, run) in _runs)
        {
            if (run.FinishedAt is { } finished && finished < before && _runs.TryRemove(key, out _))
            {
                run.Dispose();
            }
        }
    }
}
