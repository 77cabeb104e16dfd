using System.Diagnostics;

namespace BuildFarm.Dispatch.Bench;

/// <summary>The figures of one scenario.</summary>
internal sealed record Figures(
    Distribution? HandOff,
    Distribution? FinishToCompleted,
    Distribution? CompletedToDispatch,
    double WallSeconds,
    double BuildsPerSecond,
    double SteadyBuildsPerSecond,
    double SchedulerCpuMsPerBuild,
    IReadOnlyList<(int MostQueued, int LeastQueued, Distribution Latency)> ByQueueLength);

internal static class Analysis
{
    /// <summary>
    /// A hand-off is the time a slot stands free: from a server's BuildRunFinished (just before it is published) to
    /// the next DispatchBuild arriving at the same server. Each server's dispatches fill its freed slots oldest
    /// first; the first dispatches onto never-used slots are not hand-offs. The first <see cref="Scenario.Warmup"/>
    /// hand-offs (in time order) are left out.
    /// </summary>
    public static Figures Of(ScenarioResult result)
    {
        var warmup = result.Scenario.Warmup;
        var handOffs = new List<(long At, double Ms, BuildTimeline Freed, BuildTimeline Next)>();
        foreach (var server in result.Builds.Where(b => b.Dispatched != 0).GroupBy(b => b.ServerId))
        {
            var events = server.Select(b => (At: b.Dispatched, IsFinish: false, Build: b))
                .Concat(server.Where(b => b.Finishing != 0).Select(b => (At: b.Finishing, IsFinish: true, Build: b)))
                .OrderBy(e => e.At).ThenByDescending(e => e.IsFinish);
            var freed = new Queue<BuildTimeline>();
            foreach (var (at, isFinish, build) in events)
            {
                if (isFinish)
                {
                    freed.Enqueue(build);
                }
                else if (freed.TryDequeue(out var previous))
                {
                    handOffs.Add((at, Ms(at - previous.Finishing), previous, build));
                }
            }
        }
        var measured = handOffs.OrderBy(h => h.At).Skip(warmup).ToList();
        var dispatchTimes = result.Builds.Where(b => b.Dispatched != 0).Select(b => b.Dispatched).Order().ToArray();
        // Builds still queued when the slot was freed: all the builds less those dispatched by then.
        int Queued(long at)
        {
            var index = Array.BinarySearch(dispatchTimes, at);
            return result.Scenario.Builds - (index >= 0 ? index + 1 : ~index);
        }
        var thirds = measured.Count < 3
            ? []
            : measured.Select((h, i) => (h, Part: i * 3 / measured.Count)).GroupBy(x => x.Part)
                .Select(g => (MostQueued: Queued(g.First().h.Freed.Finishing), LeastQueued: Queued(g.Last().h.Freed.Finishing),
                    Latency: Distribution.Of(g.Select(x => x.h.Ms))!))
                .ToList();
        var singleSlot = result.Scenario.Slots == 1;

        var completions = result.Builds.Where(b => b.Completed != 0).Select(b => b.Completed).Order().ToArray();
        var firstDispatch = result.Builds.Where(b => b.Dispatched != 0).Select(b => b.Dispatched).DefaultIfEmpty().Min();
        var wall = completions.Length == 0 ? 0 : Ms(completions[^1] - firstDispatch) / 1000;
        var steady = completions.Length > warmup + 1
            ? (completions.Length - 1 - warmup) / (Ms(completions[^1] - completions[warmup]) / 1000)
            : 0;
        return new Figures(
            Distribution.Of(measured.Select(h => h.Ms)),
            singleSlot ? Distribution.Of(measured.Where(h => h.Freed.Completed != 0).Select(h => Ms(h.Freed.Completed - h.Freed.Finishing))) : null,
            singleSlot ? Distribution.Of(measured.Where(h => h.Freed.Completed != 0).Select(h => Ms(h.Next.Dispatched - h.Freed.Completed))) : null,
            wall,
            wall > 0 ? completions.Length / wall : 0,
            steady,
            result.Completed > 0 ? result.SchedulerCpu.TotalMilliseconds / result.Completed : 0,
            thirds);
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
