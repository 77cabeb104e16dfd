namespace BuildFarm.Scheduler.Status;

/// <summary>
/// Expected build durations from recently completed builds: the median of the same repository,
/// architecture and toolchain; failing that, of the same architecture and toolchain; failing that, a default.
/// </summary>
public sealed class DurationModel(IEnumerable<(string Repository, string Architecture, string Toolchain, TimeSpan Duration)> history, TimeSpan fallback)
{
    private readonly Dictionary<(string, string, string), List<TimeSpan>> byRepository = Group(history, h => (h.Repository, h.Architecture, h.Toolchain));
    private readonly Dictionary<(string, string, string), List<TimeSpan>> byToolchain = Group(history, h => ("", h.Architecture, h.Toolchain));

    public (TimeSpan Duration, string Basis) Expected(string repository, string architecture, string toolchain)
    {
        if (byRepository.TryGetValue((repository, architecture, toolchain), out var same))
        {
            return (Median(same), $"median of {same.Count} completed build(s) of this repository for {architecture} with {toolchain}");
        }
        if (byToolchain.TryGetValue(("", architecture, toolchain), out var similar))
        {
            return (Median(similar), $"median of {similar.Count} completed build(s) for {architecture} with {toolchain}");
        }
        return (fallback, $"no completed build for {architecture} with {toolchain} yet: assumed {fallback.TotalMinutes:0.#} min");
    }

    private static Dictionary<(string, string, string), List<TimeSpan>> Group(
        IEnumerable<(string Repository, string Architecture, string Toolchain, TimeSpan Duration)> history,
        Func<(string Repository, string Architecture, string Toolchain, TimeSpan Duration), (string, string, string)> key) =>
        history.GroupBy(key).ToDictionary(g => g.Key, g => g.Select(h => h.Duration).Order().ToList());

    private static TimeSpan Median(List<TimeSpan> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
