namespace BuildFarm.Dispatch.Bench;

/// <summary>What the fake build servers saw of one build, in <see cref="System.Diagnostics.Stopwatch"/> ticks (0 = not yet).</summary>
internal sealed class BuildTimeline(Guid buildId)
{
    public Guid BuildId { get; } = buildId;
    public string ServerId { get; set; } = "";
    public int Attempt { get; set; }
    /// <summary>The DispatchBuild arrived at the server's queue consumer.</summary>
    public long Dispatched { get; set; }
    /// <summary>The Scheduler's BuildStarted arrived (the saga committed Building).</summary>
    public long Started { get; set; }
    /// <summary>Just before the server published BuildRunFinished: the slot is free from here on.</summary>
    public long Finishing { get; set; }
    /// <summary>The Scheduler's BuildCompleted arrived.</summary>
    public long Completed { get; set; }
}
