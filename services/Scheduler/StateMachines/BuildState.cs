using BuildFarm.Contracts;
using MassTransit;

namespace BuildFarm.Scheduler.StateMachines;

/// <summary>
/// One build's saga instance, persisted as one row in PostgreSQL (state and version as columns, the
/// rest as jsonb). <see cref="CorrelationId"/> is the build id.
/// </summary>
public sealed class BuildState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "Initial";
    public int Version { get; set; }

    // The request, as validated.
    public string SourceRepository { get; set; } = "";
    public string Branch { get; set; } = "";
    public string CommitHash { get; set; } = "";
    public string TargetArchitecture { get; set; } = "";
    public string Toolchain { get; set; } = "";
    public string? SpecPath { get; set; }
    /// <summary>low, normal, high or urgent.</summary>
    public string Priority { get; set; } = "normal";
    /// <summary>The server the request named, or null for any server that can take it.</summary>
    public string? RequestedServerId { get; set; }
    public string SubmittedBy { get; set; } = "anonymous";

    public DateTimeOffset SubmittedAt { get; set; }
    /// <summary>When the build last entered the queue (submission or requeue after an infrastructure failure).</summary>
    public DateTimeOffset QueuedAt { get; set; }
    /// <summary>While queued after an infrastructure failure: not dispatched before this time (backoff).</summary>
    public DateTimeOffset? RetryAt { get; set; }
    public DateTimeOffset? DispatchedAt { get; set; }
    /// <summary>How long the current attempt may wait for a farm-wide slot, when its dispatch said (placed ahead); else the farm's setting.</summary>
    public int? SlotWaitSeconds { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The current attempt: 0 until first dispatched, then 1, 2, … one per dispatch.</summary>
    public int Attempt { get; set; }
    public string? ServerId { get; set; }
    public long? FencingToken { get; set; }
    /// <summary>
    /// The Worker process (its instance id) that accepted or started the current attempt, when it said: once a later
    /// process of the same server reports, the attempt is lost (the record-heartbeat consumer declares it so).
    /// </summary>
    public Guid? WorkerInstance { get; set; }

    /// <summary>When the current state's deadline passes (ack, slot, build duration, cancel grace), if it has one.</summary>
    public DateTimeOffset? DeadlineAt { get; set; }

    public DateTimeOffset? CancelRequestedAt { get; set; }
    public string? CancelRequestedBy { get; set; }

    /// <summary>Why the build failed, timed out or was cancelled, or why its last attempt was retried.</summary>
    public string? Reason { get; set; }
    public int? ExitCode { get; set; }
    public TimeSpan? Duration { get; set; }
    public List<Artifact> Artifacts { get; set; } = [];

    /// <summary>Every transition with its time and reason.</summary>
    public List<BuildTransition> History { get; set; } = [];

    /// <summary>Adds a history entry for the current attempt and server.</summary>
    public void Record(string state, DateTimeOffset at, string? reason) =>
        History.Add(new BuildTransition(at, state, Attempt, ServerId, reason));
}

/// <summary>One entry of a build's history.</summary>
public sealed record BuildTransition(DateTimeOffset At, string State, int Attempt, string? ServerId, string? Reason);
