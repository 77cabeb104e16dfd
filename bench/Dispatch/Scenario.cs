namespace BuildFarm.Dispatch.Bench;

/// <summary>When a fake build server reports a dispatched build finished.</summary>
internal enum FinishWhen
{
    /// <summary>Right after it acknowledged the DispatchBuild (BuildRunAccepted, BuildRunStarted, BuildRunFinished back to back).</summary>
    OnDispatch,

    /// <summary>Once the Scheduler published BuildStarted, i.e. the saga is in Building, as it is when a real build ends minutes later.</summary>
    OnBuildStarted,
}

/// <summary>One measured run: its own database, virtual host and Scheduler process.</summary>
internal sealed record Scenario(string Name, string Title, int Servers, int Capacity, int Builds, int Warmup, FinishWhen Finish, TimeSpan Timeout)
{
    public int Slots => Servers * Capacity;
}
