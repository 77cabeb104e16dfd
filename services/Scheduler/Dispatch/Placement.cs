namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// Where a build can go, and in words why it cannot go anywhere yet. A server can take a build when it is
/// online, not in maintenance, has the architecture and the toolchain, has a free slot, and its CPU, memory
/// and disk are each below the utilisation threshold; among those the least loaded wins. A build that names
/// a server waits for that server. Nothing is placed while the farm-wide limit and the builds placed ahead of it are reached, nor for a submitter or a
/// project that has as many builds on servers as its cap allows (settings maxRunningPerSubmitter, maxRunningPerProject).
/// </summary>
public static class Placement
{
    public sealed record Decision(ServerSnapshot? Server, string? WhyWaiting);

    public static Decision Choose(QueuedBuild build, IReadOnlyCollection<ServerSnapshot> servers, FarmCapacity farm, int thresholdPercent)
    {
        var candidates = Candidates(build, servers, out var noCandidates);
        if (noCandidates is not null)
        {
            return new Decision(null, noCandidates);
        }
        if (farm.Shares.WhyCapped(build) is { } capped)
        {
            return new Decision(null, capped);
        }
        if (farm.Used >= farm.Limit + farm.Ahead)
        {
            return new Decision(null, farm.Used <= farm.Limit
                ? $"farm-wide limit reached ({farm.Used} of {farm.Limit} slots)"
                : $"farm-wide limit reached ({farm.Limit} of {farm.Limit} slots, and {farm.Used - farm.Limit} more builds placed at servers to take the next)");
        }
        var free = candidates.Where(s => !s.IsFull).ToList();
        if (free.Count == 0)
        {
            return new Decision(null, candidates.Count == 1
                ? $"server {candidates[0].ServerId} is full ({candidates[0].Assigned} of {candidates[0].MaxConcurrentBuilds} builds)"
                : $"all {candidates.Count} servers with {build.Toolchain} for {build.TargetArchitecture} are full");
        }
        var cool = free.Where(s => !s.IsOverThreshold(thresholdPercent)).ToList();
        if (cool.Count == 0)
        {
            return new Decision(null, free.Count == 1
                ? $"server {free[0].ServerId} is above the {thresholdPercent}% utilisation threshold"
                : $"all {free.Count} servers with a free slot are above the {thresholdPercent}% utilisation threshold");
        }
        var best = cool.OrderBy(s => s.Load.Slots).ThenBy(s => s.Load.Resources).ThenBy(s => s.ServerId, StringComparer.Ordinal).First();
        return new Decision(best, null);
    }

    /// <summary>Online servers that could ever take the build; when there are none, why.</summary>
    public static List<ServerSnapshot> Candidates(QueuedBuild build, IReadOnlyCollection<ServerSnapshot> servers, out string? whyNone)
    {
        whyNone = null;
        if (build.RequestedServerId is { } named)
        {
            var server = servers.FirstOrDefault(s => s.ServerId == named);
            whyNone = server switch
            {
                null => $"server {named} is not registered",
                { Online: false } => $"server {named} is offline",
                { Maintenance: true } => $"server {named} is in maintenance",
                _ when !server.Architectures.Contains(build.TargetArchitecture) => $"server {named} does not have architecture {build.TargetArchitecture}",
                _ when !server.Toolchains.Contains(build.Toolchain) => $"server {named} does not have toolchain {build.Toolchain}",
                _ => null,
            };
            return whyNone is null ? [server!] : [];
        }

        var online = servers.Where(s => s.Online).ToList();
        var withArch = online.Where(s => s.Architectures.Contains(build.TargetArchitecture)).ToList();
        if (withArch.Count == 0)
        {
            whyNone = $"no online server has architecture {build.TargetArchitecture}";
            return [];
        }
        var able = withArch.Where(s => s.Toolchains.Contains(build.Toolchain)).ToList();
        if (able.Count == 0)
        {
            whyNone = $"no online server has {build.Toolchain} for {build.TargetArchitecture}";
            return [];
        }
        var working = able.Where(s => !s.Maintenance).ToList();
        if (working.Count == 0)
        {
            whyNone = able.Count == 1
                ? $"server {able[0].ServerId} is in maintenance"
                : $"all {able.Count} servers with {build.Toolchain} for {build.TargetArchitecture} are in maintenance";
            return [];
        }
        return working;
    }
}

/// <summary>
/// The farm-wide limit and how many builds hold or are about to hold a slot; how many more may be placed ahead to wait
/// for one at their servers (<see cref="SchedulerOptions.ReadyAheadPercent"/>); the caps per submitter and project.
/// </summary>
public sealed record FarmCapacity(int Used, int Limit)
{
    public int Ahead { get; init; }

    /// <summary>True when a build placed now would wait at its server for a slot to be given back.</summary>
    public bool PlacesAhead => Used >= Limit;

    public ShareCaps Shares { get; init; } = ShareCaps.None;
}

/// <summary>
/// The optional caps on one submitter's and one project's (source repository's) builds on servers at once, and how
/// many each has there now (builds on a server or placed there). A cap of 0 is no cap.
/// </summary>
public sealed class ShareCaps(int perSubmitter, int perProject, Dictionary<string, int> bySubmitter, Dictionary<string, int> byProject)
{
    public static readonly ShareCaps None = new(0, 0, [], []);

    public bool Any => perSubmitter > 0 || perProject > 0;

    public string? WhyCapped(QueuedBuild build)
    {
        if (perSubmitter > 0 && bySubmitter.GetValueOrDefault(build.SubmittedBy) >= perSubmitter)
        {
            return $"submitter {build.SubmittedBy} has {bySubmitter[build.SubmittedBy]} builds on servers, the most one submitter may have (maxRunningPerSubmitter {perSubmitter})";
        }
        if (perProject > 0 && byProject.GetValueOrDefault(build.SourceRepository) >= perProject)
        {
            return $"project {build.SourceRepository} has {byProject[build.SourceRepository]} builds on servers, the most one project may have (maxRunningPerProject {perProject})";
        }
        return null;
    }

    /// <summary>Counts a build just placed.</summary>
    public void Add(QueuedBuild build)
    {
        if (!Any)
        {
            return;
        }
        bySubmitter[build.SubmittedBy] = bySubmitter.GetValueOrDefault(build.SubmittedBy) + 1;
        byProject[build.SourceRepository] = byProject.GetValueOrDefault(build.SourceRepository) + 1;
    }
}
