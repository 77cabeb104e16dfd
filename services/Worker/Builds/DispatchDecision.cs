namespace BuildFarm.Worker.Builds;

/// <summary>What the runner did with a DispatchBuild.</summary>
public enum DispatchDecision
{
    /// <summary>Acknowledged (BuildRunAccepted published) and handed to the background runner.</summary>
    Accepted,
    /// <summary>The attempt is already running or finished here: ignored.</summary>
    Duplicate,
    /// <summary>The worker is shutting down: handed back at once (BuildRunFinished InfrastructureFailed).</summary>
    HandedBack,
    /// <summary>Addressed to another server: ignored.</summary>
    WrongServer,
}
