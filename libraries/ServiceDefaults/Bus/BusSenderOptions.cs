namespace BuildFarm.ServiceDefaults.Bus;

/// <summary>
/// Who may send what on the bus (<c>Bus:Senders</c>). Every message carries the RabbitMQ user that
/// published it in its <c>user_id</c> property, which the broker checks against the connection's user, so
/// a consumer knows the sender for certain. The names are those <c>./farm up</c> and compose create.
/// </summary>
public sealed class BusSenderOptions
{
    public const string SectionName = "Bus:Senders";

    /// <summary>
    /// Refuse a message whose sender may not send it (the default). Off only where no broker checks
    /// senders: MassTransit's in-memory test harness, or a test that plays every part as one user.
    /// </summary>
    public bool Check { get; set; } = true;

    public string Submission { get; set; } = "submission";
    public string Scheduler { get; set; } = "scheduler";
    public string Settings { get; set; } = "settings";

    /// <summary>A Worker's user is this prefix and its server id: <c>worker-b1</c> may speak only for server b1.</summary>
    public string WorkerPrefix { get; set; } = "worker-";
}
