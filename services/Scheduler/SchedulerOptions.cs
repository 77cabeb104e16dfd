using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Scheduler;

/// <summary>The Scheduler's own timings (section "Scheduler"). Farm-wide limits come from Settings.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>How long a build server has to acknowledge a dispatch before the build goes elsewhere.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DispatchAckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Added to the slot-wait timeout before the Scheduler gives up on a build that never started.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StartMargin { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Added to the maximum build duration before the Scheduler stops a build that the worker did not stop.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BuildTimeoutMargin { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a cancelled running build has to confirm before it is Cancelled anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CancelGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Backoff before the first retry after an infrastructure failure; doubles per attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00", "06:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the deadline monitor and the dispatcher's safety pass run.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan MonitorInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Waiting time that raises a queued build's effective priority by one level (see <see cref="Dispatch.QueueOrder"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AgingStep { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Duration assumed for a build with no measured history.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DefaultBuildDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Status questions read a queue shorter than this again each time (exact); a longer queue is read at most once per
    /// <see cref="StatusViewMaxAge"/> and questions meanwhile are answered from the last read (see Status/StatusReader).
    /// </summary>
    [Range(0, 10_000_000)]
    public int StatusViewExactBelow { get; set; } = 2000;

    /// <summary>
    /// Builds placed beyond the farm-wide limit, as a percentage of it (at least one when not 0), to wait at their build
    /// servers with their source checked out: a slot given back goes straight to one of them through the farm-wide
    /// semaphore, in milliseconds, instead of after a round trip through the Scheduler and a checkout. Each still
    /// counts against its server's capacity and the caps per submitter and project. 0 places nothing beyond the limit.
    /// </summary>
    [Range(0, 100)]
    public int ReadyAheadPercent { get; set; } = 10;

    /// <summary>How many builds may wait placed ahead under a farm-wide limit of <paramref name="limit"/>.</summary>
    public int ReadyAhead(int limit) => ReadyAheadPercent == 0 || limit <= 0 ? 0 : Math.Max(1, (int)Math.Ceiling(limit * ReadyAheadPercent / 100.0));

    /// <summary>
    /// How old the last read of a long queue may be when a status question is answered from it (at least ten times what
    /// that read took, so that reading a very long queue takes at most a tenth of a core).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan StatusViewMaxAge { get; set; } = TimeSpan.FromSeconds(1);
}
