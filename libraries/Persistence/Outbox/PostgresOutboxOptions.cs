namespace BuildFarm.Persistence.Outbox;

/// <summary>Settings of the Postgres outbox relay and cleanup (<c>x.AddPostgresOutbox(o =&gt; ...)</c>).</summary>
public sealed class PostgresOutboxOptions
{
    /// <summary>The name of the process's entry assembly, e.g. <c>BuildFarm.Scheduler</c>.</summary>
    public static readonly string DefaultOwner = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "buildfarm";

    /// <summary>
    /// The service this process belongs to: the rows it writes carry it, and its relay sends only rows that carry it
    /// (so each service's messages go out under its own bus user, and a service that is down delays only its own).
    /// </summary>
    public string Owner { get; set; } = DefaultOwner;

    /// <summary>Whether this process relays outbox rows to the bus (any number of processes may).</summary>
    public bool DeliveryEnabled { get; set; } = true;

    /// <summary>The safety poll: the relay looks for pending rows at least this often even without a NOTIFY.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the relay waits after a failed delivery (e.g. RabbitMQ down) before it tries again.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>At most this many messages per relay transaction.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>At most this many sources per relay transaction; their messages are sent in parallel across sources.</summary>
    public int SourcesPerBatch { get; set; } = 32;

    /// <summary>How long inbox rows are kept: a redelivery older than this is no longer recognised as a duplicate.</summary>
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How long delivered outbox rows are kept (for inspection) before the cleanup deletes them.</summary>
    public TimeSpan DeliveredRetention { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often the cleanup runs; zero turns it off.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);
}
