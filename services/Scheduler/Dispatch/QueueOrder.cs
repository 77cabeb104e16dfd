using BuildFarm.Domain;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// The order in which queued builds get build servers. The rule, exactly:
/// <list type="number">
/// <item><b>Effective priority</b> = the build's priority (low 0, normal 1, high 2, urgent 3) plus one level
/// for every full <c>agingStep</c> it has waited since submission, capped at urgent. So a low build that has
/// waited three aging steps competes as urgent: nothing starves.</item>
/// <item>Higher effective priority first.</item>
/// <item>Within one effective priority, <b>submitters take turns</b>: each build's turn is the number of
/// older builds of the same submitter at the same effective priority (its oldest has turn 0). Lower turn
/// first, so every submitter's first build goes before anyone's second: one submitter's 500 builds do
/// not stand in front of another's first.</item>
/// <item>Then first come, first served by submission time (a retried build keeps its place), then by id.</item>
/// </list>
/// </summary>
public static class QueueOrder
{
    public static BuildPriority EffectivePriority(QueuedBuild build, DateTimeOffset now, TimeSpan agingStep)
    {
        var waited = now - build.SubmittedAt;
        var raised = waited <= TimeSpan.Zero ? 0 : (int)Math.Min(3, waited.Ticks / agingStep.Ticks);
        return (BuildPriority)Math.Min((int)BuildPriority.Urgent, (int)build.Priority + raised);
    }

    /// <summary>The builds in dispatch order.</summary>
    public static IReadOnlyList<QueuedBuild> Order(IEnumerable<QueuedBuild> builds, DateTimeOffset now, TimeSpan agingStep)
    {
        var ranked = builds
            .Select(b => (Build: b, Effective: EffectivePriority(b, now, agingStep)))
            .GroupBy(x => (x.Effective, x.Build.SubmittedBy))
            .SelectMany(g => g
                .OrderBy(x => x.Build.SubmittedAt).ThenBy(x => x.Build.BuildId)
                .Select((x, turn) => (x.Build, x.Effective, Turn: turn)));
        return ranked
            .OrderByDescending(x => x.Effective)
            .ThenBy(x => x.Turn)
            .ThenBy(x => x.Build.SubmittedAt)
            .ThenBy(x => x.Build.BuildId)
            .Select(x => x.Build)
            .ToList();
    }
}
