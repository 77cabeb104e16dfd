namespace BuildFarm.Dispatch.Bench;

/// <summary>What one scenario recorded; the figures are derived by <see cref="Analysis"/>.</summary>
internal sealed record ScenarioResult(
    Scenario Scenario,
    IReadOnlyList<BuildTimeline> Builds,
    IReadOnlyDictionary<string, int> PeakByServer,
    int Completed,
    int Failed,
    int DuplicateDispatches,
    bool TimedOut,
    bool SettingsFromBench,
    TimeSpan QueueingTime,
    TimeSpan SchedulerCpu,
    string LoadBefore,
    string LoadAfter,
    IReadOnlyList<string> Problems);
