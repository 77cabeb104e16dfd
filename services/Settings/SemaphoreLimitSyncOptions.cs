using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Settings;

/// <summary>How Settings keeps the semaphore's limit in Redis (configuration section <c>LimitSync</c>).</summary>
public sealed class SemaphoreLimitSyncOptions
{
    public const string SectionName = "LimitSync";

    /// <summary>
    /// How often the limit in Redis is compared with the stored one (and set again when it differs, e.g. after Redis
    /// lost its data), and how often a failed change is retried. A restored Redis connection checks at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
