using BuildFarm.Domain;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// The order in which queued builds get build servers. The rule, exactly:
/// <list type="number">
/// <item><b>Effective priority</b> = the build's priority (low 0, normal 1, high 2, urgent 3) plus one level
/// for every full <c>agingStep</c> it has waited since submission, capped at urgent. So a low build that has
/// waited three aging steps competes as urgent: nothing starves.</item>
/// <item>Higher effective priority first.</item>
/// <item>Within one effective priority, <b>submitters take turns</b>: a build's turn is the number of turns its
/// submitter has already had while the queue waited (its builds on build servers now, or dispatched since the
/// oldest queued build was submitted) plus the number of that submitter's older queued builds at the same
/// effective priority. Lower turn first, so every submitter's first build goes before anyone's second: one
/// submitter's 500 builds do not stand in front of another's first, even when they finish one by one.</item>
/// <item>Then first come, first served by submission time (a retried build keeps its place), then by id.</item>
/// </list>
/// <para><b>Reading only the head.</b> Within one (submitter, priority) an older build is never behind a younger one (it
/// has aged at least as much and, at the same effective priority, has the lower turn). So every build among the first K
/// of the whole order is among the first K of its (submitter, priority), and ordering only those heads gives the same
/// first K in the same order (a build outside the first K may be misplaced behind them, never in front). The dispatcher
/// reads the heads through an index (<see cref="FarmSnapshot.LoadQueueHeadAsync"/>) and trusts the first K.</para>
/// </summary>
public static class QueueOrder
{
    public static BuildPriority EffectivePriority(QueuedBuild build, DateTimeOffset now, TimeSpan agingStep)
    {
        var waited = now - build.SubmittedAt;
        var raised = waited <= TimeSpan.Zero ? 0 : (int)Math.Min(3, waited.Ticks / agingStep.Ticks);
        return (BuildPriority)Math.Min((int)BuildPriority.Urgent, (int)build.Priority + raised);
    }

    /// <summary>The builds in dispatch order; <paramref name="servedBySubmitter"/> counts the turns each submitter already had.</summary>
    public static IReadOnlyList<QueuedBuild> Order(IEnumerable<QueuedBuild> builds, DateTimeOffset now, TimeSpan agingStep,
        IReadOnlyDictionary<string, int>? servedBySubmitter = null)
    {
        var ranked = builds
            .Select(b => (Build: b, Effective: EffectivePriority(b, now, agingStep)))
            .GroupBy(x => (x.Effective, x.Build.SubmittedBy))
            .SelectMany(g => g
                .OrderBy(x => x.Build.SubmittedAt).ThenBy(x => x.Build.BuildId)
                .Select((x, older) => (x.Build, x.Effective,
                    Turn: older + (servedBySubmitter?.GetValueOrDefault(x.Build.SubmittedBy) ?? 0))));
        return ranked
            .OrderByDescending(x => x.Effective)
            .ThenBy(x => x.Turn)
            .ThenBy(x => x.Build.SubmittedAt)
            .ThenBy(x => x.Build.BuildId)
            .Select(x => x.Build)
            .ToList();
    }
}
