namespace BuildFarm.Contracts;

/// <summary>How one attempt on a build server ended.</summary>
public enum BuildRunOutcome
{
    /// <summary>The build produced its artifacts.</summary>
    Succeeded,
    /// <summary>The build itself failed (bad spec, compile error, missing repository): not retried.</summary>
    BuildFailed,
    /// <summary>The farm failed (root locked, chroot or package manager error, no slot in time, server lost): retried with backoff.</summary>
    InfrastructureFailed,
    /// <summary>Stopped on request.</summary>
    Cancelled,
    /// <summary>Stopped because it ran longer than the maximum build duration.</summary>
    TimedOut,
}
