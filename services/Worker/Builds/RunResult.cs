using BuildFarm.Contracts;

namespace BuildFarm.Worker.Builds;

/// <summary>How an attempt (or one step of it) ended, in the terms of <see cref="BuildRunFinished"/>.</summary>
public sealed record RunResult(BuildRunOutcome Outcome, string? Reason = null, int? ExitCode = null)
{
    public static RunResult Success { get; } = new(BuildRunOutcome.Succeeded);

    public static RunResult BuildFailure(string reason, int? exitCode = null) => new(BuildRunOutcome.BuildFailed, reason, exitCode);

    public static RunResult InfrastructureFailure(string reason, int? exitCode = null) =>
        new(BuildRunOutcome.InfrastructureFailed, reason, exitCode);
}
