using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;

namespace BuildFarm.Scheduler.Status;

/// <summary>
/// Queue position, why a build waits, and when it should start. Two queued builds compete when some
/// build server could take both. The estimate replays the queue over the competing servers' slots (at most
/// the farm-wide limit): each slot is free now or when the build on it should end (by its measured
/// duration), and each competing build ahead, in dispatch order, takes the earliest free slot for its own
/// expected duration. The build's estimated start is the earliest slot left for it, not before its retry
/// backoff ends.
/// </summary>
public sealed class QueueEstimator(FarmSnapshot snapshot, IReadOnlyList<RunningBuild> running, DurationModel durations,
    FarmSettings farm, TimeSpan agingStep, DateTimeOffset now, int readyAhead = 0)
{
    // One estimator answers many questions at once (a view of a long queue, see StatusReader): what it works out once
    // (the queue's order, each build's candidate servers) is kept, thread-safe.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, HashSet<string>> candidates = new();
    private IReadOnlyList<QueuedBuild>? queueOrder;

    /// <summary>The whole queue in dispatch order, worked out once (two questions at once may both work it out: same answer).</summary>
    private IReadOnlyList<QueuedBuild> OrderedQueue => Volatile.Read(ref queueOrder) ?? (queueOrder = QueueOrder.Order(snapshot.Queue, now, agingStep, snapshot.ServedBySubmitter));

    public BuildStatusReport Queued(QueuedBuild build, string? lastReason) =>
        Estimate(build, snapshot.Queue, b => Candidates(b), lastReason);

    /// <summary>The wait of a new normal-priority build for <paramref name="architecture"/> on any toolchain.</summary>
    public ArchitectureWait NewBuildWait(string architecture)
    {
        var probe = new QueuedBuild(Guid.Empty, BuildPriority.Normal, "\u0000new submitter", now, architecture, "", null, "", null);
        HashSet<string> ProbeCandidates(QueuedBuild b) => b.BuildId == Guid.Empty
            ? snapshot.Servers.Where(s => s.Online && !s.Maintenance && s.Architectures.Contains(architecture)).Select(s => s.ServerId).ToHashSet()
            : Candidates(b);
        var report = Estimate(probe, [.. snapshot.Queue, probe], ProbeCandidates, null);
        return new ArchitectureWait(architecture,
            report.EstimatedStartAt is { } start ? start - now : null,
            report.EstimatedStartAt is null ? report.WhyWaiting : null);
    }

    private BuildStatusReport Estimate(QueuedBuild build, IReadOnlyList<QueuedBuild> queue, Func<QueuedBuild, HashSet<string>> candidatesOf, string? lastReason)
    {
        var mine = candidatesOf(build);
        var order = ReferenceEquals(queue, snapshot.Queue) ? OrderedQueue : QueueOrder.Order(queue, now, agingStep, snapshot.ServedBySubmitter);
        var competing = order.Where(b => b.BuildId == build.BuildId || Competes(b, build, candidatesOf(b), mine)).ToList();
        var position = competing.FindIndex(b => b.BuildId == build.BuildId) + 1;
        var (expected, basis) = durations.Expected(build.SourceRepository, build.TargetArchitecture, build.Toolchain);

        DateTimeOffset? start = null;
        if (mine.Count > 0)
        {
            var slots = Slots(mine);
            foreach (var ahead in competing.Take(position - 1))
            {
                var free = slots.Dequeue();
                var ends = Later(free, ahead.RetryAt) + durations.Expected(ahead.SourceRepository, ahead.TargetArchitecture, ahead.Toolchain).Duration;
                slots.Enqueue(ends, ends);
            }
            start = Later(slots.Dequeue(), build.RetryAt);
        }

        return new BuildStatusReport
        {
            BuildId = build.BuildId,
            Found = true,
            State = "Queued",
            QueuePosition = position,
            CompetingBuilds = competing.Count,
            EstimatedStartAt = start,
            EstimatedDuration = expected,
            EstimateBasis = basis,
            WhyWaiting = WhyWaiting(build, position, lastReason),
            EffectivePriority = QueueOrder.EffectivePriority(build, now, agingStep).ToName(),
            At = now,
        };
    }

    private string WhyWaiting(QueuedBuild build, int position, string? lastReason)
    {
        if (build.RetryAt is { } retryAt && retryAt > now)
        {
            return $"waiting to retry after an infrastructure failure ({lastReason ?? "unknown"}) until {retryAt:HH:mm:ss} UTC";
        }
        var decision = Placement.Choose(build, snapshot.Servers, snapshot.Capacity(farm, readyAhead), farm.UtilizationThresholdPercent);
        if (decision.WhyWaiting is { } why)
        {
            return position > 1 ? $"{why}; {position - 1} build(s) ahead of it" : why;
        }
        return position > 1 ? $"{position - 1} build(s) ahead of it for the same servers" : "being dispatched";
    }

    private PriorityQueue<DateTimeOffset, DateTimeOffset> Slots(HashSet<string> servers)
    {
        var lanes = Math.Max(1, Math.Min(snapshot.Servers.Where(s => servers.Contains(s.ServerId)).Sum(s => s.MaxConcurrentBuilds), farm.MaxConcurrentBuilds));
        var busy = running
            .Where(r => servers.Contains(r.ServerId))
            .Select(r =>
            {
                var end = r.Since + durations.Expected(r.SourceRepository, r.TargetArchitecture, r.Toolchain).Duration;
                return end > now ? end : now;
            })
            .Order()
            .ToList();
        var slots = new PriorityQueue<DateTimeOffset, DateTimeOffset>();
        foreach (var end in busy.Take(lanes))
        {
            slots.Enqueue(end, end);
        }
        for (var i = busy.Count; i < lanes; i++)
        {
            slots.Enqueue(now, now);
        }
        return slots;
    }

    private HashSet<string> Candidates(QueuedBuild build)
    {
        return candidates.GetOrAdd(build.BuildId, id => Placement.Candidates(build, snapshot.Servers, out _).Select(s => s.ServerId).ToHashSet());
    }

    private static bool Competes(QueuedBuild other, QueuedBuild build, HashSet<string> theirs, HashSet<string> mine) =>
        mine.Count == 0 && theirs.Count == 0
            ? other.TargetArchitecture == build.TargetArchitecture && other.Toolchain == build.Toolchain && other.RequestedServerId == build.RequestedServerId
            : theirs.Overlaps(mine);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset? b) => b is { } value && value > a ? value : a;
}
