using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Semaphore;

/// <summary>Settings of the farm-wide build-slot semaphore (configuration section <c>Semaphore</c>).</summary>
public sealed class FarmSemaphoreOptions
{
    public const string SectionName = "Semaphore";

    /// <summary>Prefix of every Redis key and of the pub/sub channel; farms sharing a Redis need different prefixes.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression(@"^[^{}\s]+$", ErrorMessage = "Semaphore:KeyPrefix must not contain braces or white space.")]
    public string KeyPrefix { get; set; } = "buildfarm:semaphore";

    /// <summary>
    /// How long a lease lives without renewal; it is renewed every third of it while held. Also how long a lease that
    /// Redis lost with its data tries to re-claim its slot; half of it is the grace after such a loss during which only
    /// those re-claims are granted.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a waiter's place in the queue (and a grant not yet claimed) lives without its process's
    /// heartbeat, sent every third of it: a waiter whose process died stops blocking the queue after this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WaiterTtl { get; set; } = TimeSpan.FromSeconds(15);
}
