using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Submission.Cleanup;

/// <summary>How the build cleanup runs (section "Cleanup"). How old a build must be comes from cleanupBuildsAfterDays.</summary>
public sealed class BuildCleanupOptions
{
    public const string Section = "Cleanup";

    /// <summary>How often the cleanup runs (also once at start).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Cleanup:Interval must be between 1 s and 7 days.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many builds are cleaned per transaction.</summary>
    [Range(1, 10_000, ErrorMessage = "Cleanup:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 200;
}
