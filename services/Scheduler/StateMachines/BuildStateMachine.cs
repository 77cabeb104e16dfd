using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Bus;
using FluentValidation;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BuildFarm.Scheduler.StateMachines;

/// <summary>
/// A build's life: Queued → Dispatched → Building → Completed | Failed | Cancelled | TimedOut.
/// A request that fails validation is answered with <see cref="BuildRejected"/> and never stored.
/// <list type="bullet">
/// <item>Queued → Dispatched is the one transition the saga does not make on a message: the dispatcher makes it
/// (<see cref="DispatchTo"/>) in its own transaction, with the row's version check, and sends <see cref="DispatchBuild"/>
/// for attempt n+1 to that server's queue through the same transaction's outbox.</item>
/// <item>Worker events carry the attempt and server: an event from any other attempt is logged and ignored (fencing).</item>
/// <item>Infrastructure failures go back to the queue with exponential backoff until the retry limit; build
/// failures do not.</item>
/// <item>Every state that waits on a worker has a deadline, checked by the deadline monitor.</item>
/// </list>
/// </summary>
public sealed class BuildStateMachine : MassTransitStateMachine<BuildState>
{
    public BuildStateMachine(
        IValidator<BuildRequested> validator,
        BusSenderPolicy senders,
        IQueueGauge queue,
        FarmSettingsCache settings,
        IOptions<SchedulerOptions> options,
        TimeProvider time,
        ILogger<BuildStateMachine> logger)
    {
        var o = options.Value;
        InstanceState(x => x.CurrentState);

        Event(() => Requested, e => e.CorrelateById(c => c.Message.BuildId));
        // Every other message about a build names it; one for a build the saga does not have is dropped.
        Event(() => RunAccepted, e => e.CorrelateById(c => c.Message.BuildId).OnMissingInstance(m => m.Discard()));
        Event(() => RunStarted, e => e.CorrelateById(c => c.Message.BuildId).OnMissingInstance(m => m.Discard()));
        Event(() => RunFinished, e => e.CorrelateById(c => c.Message.BuildId).OnMissingInstance(m => m.Discard()));
        // A cancel can overtake the request it cancels (they reach the saga by different paths): it then creates the
        // build as Cancelled, and the request that follows fills in what was asked and queues nothing.
        Event(() => CancelRequested, e => e.CorrelateById(c => c.Message.BuildId));
        Event(() => DeadlineReached, e => e.CorrelateById(c => c.Message.BuildId).OnMissingInstance(m => m.Discard()));

        OnUnhandledEvent(context =>
        {
            logger.LogInformation("Ignored {Event} for build {BuildId} in state {State}",
                context.Event.Name, context.Saga.CorrelationId, context.Saga.CurrentState);
            return context.Ignore();
        });

        Initially(
            When(Requested)
                .IfElse(c => validator.Validate(c.Message).IsValid,
                    valid => valid.IfElseAsync(async c => await queue.QueuedAsync(c.CancellationToken) >= settings.Current.MaxQueueSize,
                        full => full
                            .ThenAsync(c => PublishAndAnswerAsync(c, senders, QueueFull(c.Message, settings, time)))
                            .Finalize(),
                        room => room
                            .Then(c => Accept(c.Saga, c.Message, BusDoorSender(senders, c), time.GetUtcNow()))
                            .TransitionTo(Queued)
                            .ThenAsync(c => PublishAndAnswerAsync(c, senders, Queue(c.Saga)))),
                    invalid => invalid
                        .ThenAsync(c => PublishAndAnswerAsync(c, senders, Invalid(c.Message, validator, time)))
                        .Finalize()),
            When(CancelRequested)
                .Then(c => Finish(c.Saga, nameof(Cancelled), time.GetUtcNow(), CancelReason(c.Message), "cancelled before its request arrived"))
                .Then(c => c.Saga.CancelRequestedBy = c.Message.RequestedBy)
                .TransitionTo(Cancelled)
                .Publish(c => CancelledEvent(c.Saga)));

        During(Cancelled,
            When(Requested, c => c.Saga.SourceRepository.Length == 0)
                .IfElse(c => validator.Validate(c.Message).IsValid,
                    valid => valid.Then(c => CopyRequest(c.Saga, c.Message, BusDoorSender(senders, c), time.GetUtcNow())),
                    invalid => invalid
                        .ThenAsync(c => PublishAndAnswerAsync(c, senders, Invalid(c.Message, validator, time)))
                        .Finalize()));

        During(Queued,
            When(CancelRequested)
                .Then(c => Finish(c.Saga, nameof(Cancelled), time.GetUtcNow(), CancelReason(c.Message)))
                .Then(c => c.Saga.CancelRequestedBy = c.Message.RequestedBy)
                .TransitionTo(Cancelled)
                .Publish(c => CancelledEvent(c.Saga)));

        During(Dispatched, Building,
            When(RunAccepted, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId))
                .Then(c =>
                {
                    var now = time.GetUtcNow();
                    c.Saga.AcceptedAt = now;
                    c.Saga.WorkerInstance = c.Message.InstanceId ?? c.Saga.WorkerInstance;
                    c.Saga.DeadlineAt = now + StartWithin(c.Saga, settings.Current, o);
                }),
            When(RunStarted, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId))
                .Then(c =>
                {
                    var now = time.GetUtcNow();
                    c.Saga.StartedAt = c.Message.StartedAt;
                    c.Saga.FencingToken = c.Message.FencingToken;
                    c.Saga.WorkerInstance = c.Message.InstanceId ?? c.Saga.WorkerInstance;
                    c.Saga.DeadlineAt = now + TimeSpan.FromMinutes(settings.Current.MaxBuildMinutes) + o.BuildTimeoutMargin;
                    c.Saga.Record(nameof(Building), now, $"building on {c.Message.ServerId}");
                })
                .TransitionTo(Building)
                .Publish(c => new BuildStarted
                {
                    BuildId = c.Saga.CorrelationId,
                    Attempt = c.Saga.Attempt,
                    ServerId = c.Saga.ServerId!,
                    StartedAt = c.Saga.StartedAt!.Value,
                    QueuedFor = c.Saga.StartedAt!.Value - c.Saga.SubmittedAt,
                }),
            When(CancelRequested)
                .Then(c => BeginCancel(c.Saga, CancelReason(c.Message), c.Message.RequestedBy, time.GetUtcNow(), o))
                .TransitionTo(Cancelling)
                .Send(c => WorkerQueue(c.Saga.ServerId!), c => Stop(c.Saga, BuildRunOutcome.Cancelled)));

        During(Dispatched,
            When(DeadlineReached, c => IsDue(c.Saga, c.Message, time))
                .IfElse(c => c.Saga.AcceptedAt is null,
                    unacknowledged => unacknowledged.Then(c => c.Saga.Reason =
                        $"build server {c.Saga.ServerId} did not acknowledge the dispatch within {o.DispatchAckTimeout.TotalSeconds:0} s"),
                    neverStarted => neverStarted.Then(c => c.Saga.Reason =
                        $"build server {c.Saga.ServerId} accepted the build but did not start it in time"))
                .Then(c => BeginRetryOrFail(c.Saga, c.Saga.Reason!, null, settings.Current, time.GetUtcNow(), o))
                .IfElse(c => c.Saga.RetryAt is not null,
                    retry => retry.TransitionTo(Queued).Publish(c => Queue(c.Saga)),
                    fail => fail.TransitionTo(Failed).Publish(c => FailedEvent(c.Saga))));

        During(Building,
            When(DeadlineReached, c => IsDue(c.Saga, c.Message, time))
                .Then(c => Finish(c.Saga, nameof(TimedOut), time.GetUtcNow(),
                    $"build ran longer than {settings.Current.MaxBuildMinutes} min and the build server did not stop it"))
                .TransitionTo(TimedOut)
                .Send(c => WorkerQueue(c.Saga.ServerId!), c => Stop(c.Saga, BuildRunOutcome.TimedOut))
                .Publish(c => FailedEvent(c.Saga)));

        During(Dispatched, Building, Cancelling,
            When(RunFinished, c => !IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId))
                .Then(c => Stale(logger, c.Saga, c.Message.Attempt, c.Message.ServerId, nameof(BuildRunFinished))),
            When(RunAccepted, c => !IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId))
                .Then(c => Stale(logger, c.Saga, c.Message.Attempt, c.Message.ServerId, nameof(BuildRunAccepted))),
            When(RunStarted, c => !IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId))
                .Then(c => Stale(logger, c.Saga, c.Message.Attempt, c.Message.ServerId, nameof(BuildRunStarted))));

        During(Dispatched, Building,
            When(RunFinished, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId) && c.Message.Outcome == BuildRunOutcome.Succeeded)
                .Then(c => Complete(c.Saga, c.Message))
                .TransitionTo(Completed)
                .Publish(c => CompletedEvent(c.Saga)),
            When(RunFinished, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId)
                    && c.Message.Outcome is BuildRunOutcome.BuildFailed or BuildRunOutcome.TimedOut)
                .Then(c => FinishRun(c.Saga, c.Message, c.Message.Outcome == BuildRunOutcome.TimedOut ? nameof(TimedOut) : nameof(Failed)))
                .IfElse(c => c.Message.Outcome == BuildRunOutcome.TimedOut,
                    timedOut => timedOut.TransitionTo(TimedOut),
                    failed => failed.TransitionTo(Failed))
                .Publish(c => FailedEvent(c.Saga)),
            When(RunFinished, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId)
                    && c.Message.Outcome is BuildRunOutcome.InfrastructureFailed or BuildRunOutcome.Cancelled)
                .Then(c => RecordCommit(c.Saga, c.Message))
                .Then(c => BeginRetryOrFail(c.Saga, c.Message.Reason ?? "infrastructure failure", c.Message.ExitCode,
                    settings.Current, time.GetUtcNow(), o))
                .IfElse(c => c.Saga.RetryAt is not null,
                    retry => retry.TransitionTo(Queued).Publish(c => Queue(c.Saga)),
                    fail => fail.TransitionTo(Failed).Publish(c => FailedEvent(c.Saga))));

        During(Cancelling,
            When(RunFinished, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId) && c.Message.Outcome == BuildRunOutcome.Succeeded)
                .Then(c => Complete(c.Saga, c.Message))
                .TransitionTo(Completed)
                .Publish(c => CompletedEvent(c.Saga)),
            When(RunFinished, c => IsCurrent(c.Saga, c.Message.Attempt, c.Message.ServerId) && c.Message.Outcome != BuildRunOutcome.Succeeded)
                .Then(c => Finish(c.Saga, nameof(Cancelled), c.Message.FinishedAt, c.Saga.Reason, "the build server confirmed the stop"))
                .TransitionTo(Cancelled)
                .Publish(c => CancelledEvent(c.Saga)),
            When(DeadlineReached, c => IsDue(c.Saga, c.Message, time))
                .Then(c => Finish(c.Saga, nameof(Cancelled), time.GetUtcNow(), c.Saga.Reason,
                    $"the build server did not confirm within {o.CancelGracePeriod.TotalSeconds:0} s"))
                .TransitionTo(Cancelled)
                .Publish(c => CancelledEvent(c.Saga)),
            Ignore(CancelRequested));

        During(Completed, Failed, TimedOut, Ignore(Requested));
        During(Completed, Failed, Cancelled, TimedOut,
            Ignore(CancelRequested), Ignore(DeadlineReached),
            Ignore(RunAccepted), Ignore(RunStarted), Ignore(RunFinished));

        During(Queued, Dispatched, Building, Cancelling, Ignore(Requested));

        // A rejected request is finalized in the same consume and so never stored.
        SetCompletedWhenFinalized();
        During(Queued, Ignore(DeadlineReached), Ignore(RunAccepted), Ignore(RunStarted), Ignore(RunFinished));
    }

    public State Queued { get; private set; } = null!;
    public State Dispatched { get; private set; } = null!;
    public State Building { get; private set; } = null!;
    /// <summary>A stop was sent to the build server; Cancelled when it confirms or the grace period ends.</summary>
    public State Cancelling { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;
    public State TimedOut { get; private set; } = null!;

    public Event<BuildRequested> Requested { get; private set; } = null!;
    public Event<BuildRunAccepted> RunAccepted { get; private set; } = null!;
    public Event<BuildRunStarted> RunStarted { get; private set; } = null!;
    public Event<BuildRunFinished> RunFinished { get; private set; } = null!;
    public Event<CancelBuild> CancelRequested { get; private set; } = null!;
    public Event<BuildDeadlineReached> DeadlineReached { get; private set; } = null!;

    /// <summary>The receive queue of one build server.</summary>
    public static Uri WorkerQueue(string serverId) => new($"queue:build-server-{serverId}");

    /// <summary>
    /// The RabbitMQ user that sent a request through the bus door, or null for one from the gateway, which has
    /// authenticated its submitter and stamped its time. A bus-door request cannot claim another submitter or an
    /// earlier time: its build is recorded under its sender, submitted when the Scheduler received it.
    /// </summary>
    private static string? BusDoorSender(BusSenderPolicy senders, ConsumeContext context)
    {
        var sender = BusSender.Of(context);
        return senders.IsGateway(sender) ? null : sender ?? "anonymous";
    }

    private static BuildRejected QueueFull(BuildRequested request, FarmSettingsCache settings, TimeProvider time) => new()
    {
        BuildId = request.BuildId,
        Errors = [new FieldError("queue", $"queue full: it holds its maximum of {settings.Current.MaxQueueSize} builds")],
        RejectedAt = time.GetUtcNow(),
    };

    private static BuildRejected Invalid(BuildRequested request, IValidator<BuildRequested> validator, TimeProvider time) => new()
    {
        BuildId = request.BuildId,
        Errors = validator.Validate(request).Errors.Select(e => new FieldError(e.PropertyName, e.ErrorMessage)).ToList(),
        RejectedAt = time.GetUtcNow(),
    };

    /// <summary>
    /// Publishes what became of a request (<see cref="BuildQueued"/> or <see cref="BuildRejected"/>) and, for a bus-door
    /// request that names a response address of its sender's own (an exchange named publisher.…, the only ones the
    /// publisher user may read), sends it there too. Requests from the gateway, and addresses elsewhere, get no answer.
    /// </summary>
    private static async Task PublishAndAnswerAsync<T>(BehaviorContext<BuildState, BuildRequested> context, BusSenderPolicy senders, T outcome)
        where T : class
    {
        await context.Publish(outcome, context.CancellationToken);
        if (BusDoorSender(senders, context) is null || context.ResponseAddress is not { } address
            || !address.AbsolutePath.Split('/')[^1].StartsWith(PublisherReplyPrefix, StringComparison.Ordinal))
        {
            return;
        }
        var endpoint = await context.GetSendEndpoint(address);
        await endpoint.Send(outcome, context.CancellationToken);
    }

    private const string PublisherReplyPrefix = "publisher.";

    private static void Accept(BuildState saga, BuildRequested request, string? busDoorSender, DateTimeOffset now)
    {
        CopyRequest(saga, request, busDoorSender, now);
        saga.QueuedAt = now;
        saga.Record("Queued", now, "submitted");
    }

    private static void CopyRequest(BuildState saga, BuildRequested request, string? busDoorSender, DateTimeOffset now)
    {
        BuildPriorities.TryParse(request.Priority, out var priority);
        // Validated: every required field is present.
        saga.SourceRepository = request.SourceRepository!.Trim();
        saga.Branch = request.Branch!.Trim();
        saga.CommitHash = Domain.Sources.GitSource.IsBranchTip(request.CommitHash)
            ? Domain.Sources.GitSource.BranchTip
            : request.CommitHash!.Trim().ToLowerInvariant();
        saga.TargetArchitecture = request.TargetArchitecture!;
        saga.Toolchain = request.Toolchain!;
        saga.SpecPath = string.IsNullOrWhiteSpace(request.SpecPath) ? null : request.SpecPath.Trim();
        saga.Priority = priority.ToName();
        saga.RequestedServerId = ServerIds.Normalise(request.ServerId);
        saga.SubmittedBy = busDoorSender ?? (string.IsNullOrWhiteSpace(request.SubmittedBy) ? "anonymous" : request.SubmittedBy);
        saga.SubmittedAt = busDoorSender is null ? request.SubmittedAt ?? now : now;
    }

    private static BuildQueued Queue(BuildState saga) => new()
    {
        BuildId = saga.CorrelationId,
        Priority = saga.Priority,
        TargetArchitecture = saga.TargetArchitecture,
        Toolchain = saga.Toolchain,
        QueuedAt = saga.QueuedAt,
        Attempt = saga.Attempt + 1,
    };

    /// <summary>
    /// How long an accepted attempt has to start: its checkout (bounded by the Worker like a build, by maxBuildMinutes),
    /// its wait for a farm-wide slot, and the margin. A Worker that dies meanwhile is found by its heartbeats sooner.
    /// </summary>
    private static TimeSpan StartWithin(BuildState saga, FarmSettings settings, SchedulerOptions options) =>
        TimeSpan.FromMinutes(settings.MaxBuildMinutes) + TimeSpan.FromSeconds(saga.SlotWaitSeconds ?? settings.SlotWaitTimeoutSeconds) + options.StartMargin;

    /// <summary>
    /// Queued → Dispatched for attempt n+1 on <paramref name="serverId"/>, made by the dispatcher on the saga's row (see
    /// <see cref="Dispatch.Dispatcher"/>): the instance changes as a saga transition would change it, and the returned
    /// <see cref="DispatchBuild"/> goes to <see cref="WorkerQueue"/> in the same transaction. A build
    /// <paramref name="placedAhead"/> of a free slot may wait for one as long as the longest build runs (a slot is given
    /// back by then unless the farm is stuck), plus the farm's slot wait.
    /// </summary>
    public static DispatchBuild DispatchTo(BuildState saga, string serverId, DateTimeOffset now, FarmSettings settings, SchedulerOptions options,
        bool placedAhead = false)
    {
        ArgumentNullException.ThrowIfNull(saga);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        if (saga.CurrentState != nameof(Queued))
        {
            throw new InvalidOperationException($"Build {saga.CorrelationId} is {saga.CurrentState}, not Queued: it cannot be dispatched.");
        }
        saga.Attempt++;
        saga.ServerId = serverId;
        saga.DispatchedAt = now;
        saga.AcceptedAt = null;
        saga.WorkerInstance = null;
        saga.RetryAt = null;
        saga.DeadlineAt = now + options.DispatchAckTimeout;
        saga.SlotWaitSeconds = placedAhead ? settings.SlotWaitTimeoutSeconds + settings.MaxBuildMinutes * 60 : null;
        saga.Record(nameof(Dispatched), now, $"dispatched to {serverId}");
        saga.CurrentState = nameof(Dispatched);
        return new DispatchBuild
        {
            BuildId = saga.CorrelationId,
            Attempt = saga.Attempt,
            ServerId = serverId,
            SourceRepository = saga.SourceRepository,
            Branch = saga.Branch,
            CommitHash = saga.CommitHash,
            TargetArchitecture = saga.TargetArchitecture,
            Toolchain = saga.Toolchain,
            SpecPath = saga.SpecPath,
            Priority = saga.Priority,
            DispatchedAt = now,
            MaxBuildMinutes = settings.MaxBuildMinutes,
            SlotWaitTimeoutSeconds = saga.SlotWaitSeconds,
        };
    }

    private static StopBuildRun Stop(BuildState saga, BuildRunOutcome outcome) => new()
    {
        BuildId = saga.CorrelationId,
        Attempt = saga.Attempt,
        As = outcome,
        Reason = saga.Reason,
    };

    private static BuildCompleted CompletedEvent(BuildState saga) => new()
    {
        BuildId = saga.CorrelationId,
        Attempt = saga.Attempt,
        ServerId = saga.ServerId!,
        FinishedAt = saga.FinishedAt!.Value,
        Duration = saga.Duration ?? TimeSpan.Zero,
        Artifacts = saga.Artifacts,
    };

    private static BuildFailed FailedEvent(BuildState saga) => new()
    {
        BuildId = saga.CorrelationId,
        Attempt = saga.Attempt,
        ServerId = saga.ServerId,
        State = saga.CurrentState,
        Reason = saga.Reason ?? "failed",
        ExitCode = saga.ExitCode,
        FinishedAt = saga.FinishedAt ?? DateTimeOffset.MinValue,
        Duration = saga.Duration,
    };

    private static BuildCancelled CancelledEvent(BuildState saga) => new()
    {
        BuildId = saga.CorrelationId,
        Attempt = saga.Attempt,
        ServerId = saga.ServerId,
        CancelledBy = saga.CancelRequestedBy,
        CancelledAt = saga.FinishedAt ?? DateTimeOffset.MinValue,
    };

    private static string CancelReason(CancelBuild message) =>
        string.IsNullOrWhiteSpace(message.Reason)
            ? $"cancelled by {message.RequestedBy ?? "request"}"
            : $"cancelled by {message.RequestedBy ?? "request"}: {message.Reason}";

    private static bool IsCurrent(BuildState saga, int attempt, string serverId) =>
        attempt == saga.Attempt && string.Equals(serverId, saga.ServerId, StringComparison.Ordinal);

    private static bool IsDue(BuildState saga, BuildDeadlineReached message, TimeProvider time) =>
        message.Attempt == saga.Attempt && saga.DeadlineAt is { } deadline && deadline <= time.GetUtcNow();

    private static void Stale(ILogger logger, BuildState saga, int attempt, string serverId, string what) =>
        logger.LogWarning(
            "Ignored stale {Message} for build {BuildId}: attempt {Attempt} on {ServerId}, current attempt {CurrentAttempt} on {CurrentServer}",
            what, saga.CorrelationId, attempt, serverId, saga.Attempt, saga.ServerId);

    private static void BeginCancel(BuildState saga, string reason, string? by, DateTimeOffset now, SchedulerOptions o)
    {
        saga.Reason = reason;
        saga.CancelRequestedAt = now;
        saga.CancelRequestedBy = by;
        saga.DeadlineAt = now + o.CancelGracePeriod;
        saga.Record(nameof(Cancelling), now, reason);
    }

    /// <summary>
    /// The commit the server checked out becomes the build's: a request for the branch's tip (or an abbreviated id)
    /// is recorded as the full commit, and a later attempt builds exactly that one.
    /// </summary>
    private static void RecordCommit(BuildState saga, BuildRunFinished message)
    {
        if (Domain.Sources.GitSource.IsFullCommit(message.Commit)
            && (saga.CommitHash == Domain.Sources.GitSource.BranchTip || Domain.Sources.GitSource.SameCommit(message.Commit!, saga.CommitHash)))
        {
            saga.CommitHash = message.Commit!.ToLowerInvariant();
        }
    }

    private static void Complete(BuildState saga, BuildRunFinished message)
    {
        RecordCommit(saga, message);
        saga.Artifacts = [.. message.Artifacts];
        saga.ExitCode = message.ExitCode;
        saga.Reason = null;
        Finish(saga, nameof(Completed), message.FinishedAt, null);
    }

    private static void FinishRun(BuildState saga, BuildRunFinished message, string state)
    {
        RecordCommit(saga, message);
        saga.Artifacts = [.. message.Artifacts];
        saga.ExitCode = message.ExitCode;
        Finish(saga, state, message.FinishedAt, message.Reason ?? state.ToLowerInvariant());
    }

    private static void Finish(BuildState saga, string state, DateTimeOffset at, string? reason, string? note = null)
    {
        saga.Reason = reason;
        saga.FinishedAt = at;
        saga.DeadlineAt = null;
        saga.Duration = saga.StartedAt is { } started ? at - started : null;
        saga.Record(state, at, note is null ? reason : $"{reason}; {note}");
    }

    /// <summary>
    /// After an infrastructure failure: back to the queue with exponential backoff while attempts remain
    /// (attempts = 1 + maxRetries), else Failed with the last reason.
    /// </summary>
    private static void BeginRetryOrFail(BuildState saga, string reason, int? exitCode, FarmSettings settings, DateTimeOffset now, SchedulerOptions o)
    {
        saga.ExitCode = exitCode;
        if (saga.Attempt <= settings.MaxRetries)
        {
            var delay = TimeSpan.FromTicks(Math.Min(o.RetryMaxDelay.Ticks, o.RetryBaseDelay.Ticks * (1L << Math.Min(saga.Attempt - 1, 20))));
            saga.Reason = reason;
            saga.RetryAt = now + delay;
            saga.QueuedAt = now;
            saga.DeadlineAt = null;
            saga.StartedAt = null;
            saga.Record("Queued", now, $"attempt {saga.Attempt} on {saga.ServerId} failed: {reason}; retry in {delay.TotalSeconds:0} s");
            saga.ServerId = null;
            saga.WorkerInstance = null;
        }
        else
        {
            saga.RetryAt = null;
            Finish(saga, "Failed", now, $"{reason} (gave up after {saga.Attempt} attempts)");
        }
    }
}
