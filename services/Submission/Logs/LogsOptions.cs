using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Submission.Logs;

/// <summary>How live logs are served (section "Logs"). The log size cap is a farm setting (maxLogBytesPerAttempt).</summary>
public sealed class LogsOptions
{
    public const string Section = "Logs";

    /// <summary>Live followers (GET …/logs/follow) one user may have open at once on one Submission instance; more get 429.</summary>
    [Range(1, 10_000, ErrorMessage = "Logs:MaxFollowersPerUser must be between 1 and 10000.")]
    public int MaxFollowersPerUser { get; set; } = 10;
}
