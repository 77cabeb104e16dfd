using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Submission.Logs;

/// <summary>How live logs are served (section "Logs"). The log size cap is a farm setting (maxLogBytesPerAttempt).</summary>
public sealed class LogsOptions
{
    public const string Section = "Logs";

    /// <summary>Live followers (GET …/logs/follow) one user may have open at once on one Submission instance; more get 429.</summary>
    [Range(1, 10_000, ErrorMessage = "Logs:MaxFollowersPerUser must be between 1 and 10000.")]
    public int MaxFollowersPerUser { get; set; } = 10;

    /// <summary>
    /// How long a batch of log waits, from its arrival, for the batch before it in its stream to be stored (batches are
    /// consumed in parallel, so one may overtake the one before it); after that it is stored anyway (a batch the Worker
    /// lost leaves a gap).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Logs:OrderWait must be between 0 and 1 min.")]
    public TimeSpan OrderWait { get; set; } = TimeSpan.FromSeconds(2);
}
